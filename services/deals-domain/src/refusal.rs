//! How the deals context's refusals are reported: bad arguments name their
//! field, an unknown deal is not found, the rest are rule refusals.

use crate::error::Error;
use deedlog_kernel::{Refusal, RefusalKind};

impl Refusal for Error {
    fn kind(&self) -> RefusalKind {
        match self {
            Error::Invalid { field, reason } => RefusalKind::InvalidArgument {
                field: field.clone(),
                reason: reason.clone(),
            },
            Error::NotFound | Error::UnknownScenario { .. } => RefusalKind::NotFound,
            _ => RefusalKind::Refused,
        }
    }
}
