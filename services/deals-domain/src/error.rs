//! Why a deal command is refused.

use crate::stage::Stage;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    /// `field` is the request's path of the field (`offer.amount_minor`, `costs[0].label`).
    Invalid { field: String, reason: String },
    #[error("the deal already exists")]
    AlreadyExists,
    #[error("the deal does not exist")]
    NotFound,
    #[error("the deal is {stage}; a closed deal accepts no change until it is reopened")]
    Closed { stage: Stage },
    #[error("the deal is open; only a closed deal can be reopened")]
    NotClosed,
    #[error("a deal cannot move from {from} to {to}; allowed: {}", list(.allowed))]
    TransitionNotAllowed {
        from: Stage,
        to: Stage,
        allowed: Vec<Stage>,
    },
    #[error("amounts of this deal are in {expected}")]
    CurrencyMismatch { expected: String },
    #[error("the deal has no scenario {scenario_id}")]
    UnknownScenario { scenario_id: Uuid },
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: &str) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.to_owned(),
        }
    }
}

fn list(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
