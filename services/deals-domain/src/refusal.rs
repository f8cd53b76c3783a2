//! How the deals context's refusals are reported: bad arguments name their
//! field, an unknown deal is not found, the rest are rule refusals.

use crate::error::Error;
use deedlog_kernel::{Reason, Refusal, RefusalKind};

impl Refusal for Error {
    fn kind(&self) -> RefusalKind {
        match self {
            Error::Invalid { field, reason } => RefusalKind::InvalidArgument {
                field: field.clone(),
                reason: reason.clone(),
            },
            Error::NotFound | Error::UnknownScenario { .. } => RefusalKind::NotFound,
            Error::AlreadyExists => RefusalKind::Refused(Reason::new("DEAL_EXISTS")),
            Error::Closed { stage } => {
                RefusalKind::Refused(Reason::new("DEAL_CLOSED").with("stage", stage))
            }
            Error::NotClosed => RefusalKind::Refused(Reason::new("DEAL_NOT_CLOSED")),
            Error::TransitionNotAllowed { from, to, allowed } => RefusalKind::Refused(
                Reason::new("STAGE_MOVE_NOT_ALLOWED")
                    .with("from", from)
                    .with("to", to)
                    .with_list("allowed", allowed),
            ),
            Error::CurrencyMismatch { expected } => {
                RefusalKind::Refused(Reason::new("CURRENCY_MISMATCH").with("expected", expected))
            }
        }
    }
}
