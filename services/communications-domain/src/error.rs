//! Why a communications command is refused.
//!
//! A refusal here is not recorded: the request is malformed or cannot apply
//! to this contact. A message that compliance forbids is another matter: it
//! is recorded as [`crate::Event::MessageRefused`], so auditors see it.

use crate::model::Channel;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the contact already exists")]
    AlreadyExists,
    #[error("the contact does not exist")]
    NotFound,
    #[error("message id {message_id} is already used on this contact")]
    DuplicateMessage { message_id: Uuid },
    #[error("the contact has no {} to reach by {channel}", .channel.address_kind())]
    NoAddressForChannel { channel: Channel },
    #[error("message {message_id} is not a message of this contact")]
    UnknownMessage { message_id: Uuid },
    #[error("message {message_id} was never sent (it was refused or received), so it has no delivery reports")]
    NotSent { message_id: Uuid },
    /// The decider does not know the contact's id (the stream's), so the
    /// words say "the contact"; the caller named it.
    #[error("the contact was forgotten (right to erasure); it takes no more commands")]
    Forgotten,
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: &str) -> Self {
        Error::Invalid {
            field,
            reason: reason.to_owned(),
        }
    }
}

/// Bad arguments name their field, an unknown contact or message is not
/// found, the rest are rule refusals (compliance refusals are events, not errors).
impl deedlog_kernel::Refusal for Error {
    fn kind(&self) -> deedlog_kernel::RefusalKind {
        use deedlog_kernel::{Reason, RefusalKind};
        match self {
            Error::Invalid { field, reason } => RefusalKind::InvalidArgument {
                field: (*field).to_owned(),
                reason: reason.clone(),
            },
            Error::NotFound | Error::UnknownMessage { .. } => RefusalKind::NotFound,
            Error::AlreadyExists => RefusalKind::Refused(Reason::new("CONTACT_EXISTS")),
            Error::DuplicateMessage { message_id } => {
                RefusalKind::Refused(Reason::new("MESSAGE_ID_USED").with("messageId", message_id))
            }
            Error::NoAddressForChannel { channel } => {
                RefusalKind::Refused(Reason::new("NO_ADDRESS_FOR_CHANNEL").with("channel", channel))
            }
            Error::NotSent { message_id } => {
                RefusalKind::Refused(Reason::new("MESSAGE_NOT_SENT").with("messageId", message_id))
            }
            Error::Forgotten => RefusalKind::Refused(Reason::new("CONTACT_FORGOTTEN")),
        }
    }
}
