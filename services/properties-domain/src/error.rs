//! Why a property command is refused.

use crate::status::ListingStatus;
use deedlog_kernel::{Reason, RefusalKind};

/// A refusal: either the request is malformed (`Invalid`, naming the field)
/// or a rule of the domain forbids it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the property already exists")]
    AlreadyExists,
    #[error("the property does not exist")]
    NotFound,
    #[error("the property is archived; restore it before changing it")]
    Archived,
    #[error("the property is not archived")]
    NotArchived,
    #[error("the property is sold; its {what} can no longer change")]
    Sold { what: &'static str },
    #[error("listing status cannot move from {from} to {to}; allowed: {}", allowed_list(.allowed))]
    TransitionNotAllowed {
        from: ListingStatus,
        to: ListingStatus,
        allowed: Vec<ListingStatus>,
    },
    #[error("the asking price must be in {expected}, the property's currency")]
    CurrencyMismatch { expected: String },
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: &str) -> Self {
        Error::Invalid {
            field,
            reason: reason.to_owned(),
        }
    }
}

fn allowed_list(allowed: &[ListingStatus]) -> String {
    if allowed.is_empty() {
        return "none (sold is final)".to_owned();
    }
    allowed
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl deedlog_kernel::Refusal for Error {
    fn kind(&self) -> RefusalKind {
        let reason = match self {
            Error::Invalid { field, reason } => {
                return RefusalKind::InvalidArgument {
                    field: (*field).to_owned(),
                    reason: reason.clone(),
                }
            }
            Error::NotFound => return RefusalKind::NotFound,
            Error::AlreadyExists => Reason::new("PROPERTY_EXISTS"),
            Error::Archived => Reason::new("PROPERTY_ARCHIVED"),
            Error::NotArchived => Reason::new("PROPERTY_NOT_ARCHIVED"),
            Error::Sold { what } => Reason::new("PROPERTY_SOLD").with("field", what),
            Error::TransitionNotAllowed { from, to, allowed } => {
                Reason::new("LISTING_MOVE_NOT_ALLOWED")
                    .with("from", from)
                    .with("to", to)
                    .with_list("allowed", allowed)
            }
            Error::CurrencyMismatch { expected } => {
                Reason::new("CURRENCY_MISMATCH").with("expected", expected)
            }
        };
        RefusalKind::Refused(reason)
    }
}
