//! Why a property command is refused.

use crate::status::ListingStatus;

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
    fn kind(&self) -> deedlog_kernel::RefusalKind {
        match self {
            Error::Invalid { field, reason } => deedlog_kernel::RefusalKind::InvalidArgument {
                field: (*field).to_owned(),
                reason: reason.clone(),
            },
            Error::NotFound => deedlog_kernel::RefusalKind::NotFound,
            _ => deedlog_kernel::RefusalKind::Refused,
        }
    }
}
