//! A command service's failures and their gRPC form: field violations for
//! bad arguments, the rule's reason for refusals, and nothing internal.

use deedlog_runtime::ErrorCode;
use tonic_types::{ErrorDetails, StatusExt};

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    /// The rules refuse the command; the text says why, in words.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// A dependency is unreachable; the text is safe to show.
    #[error("{0}")]
    Unavailable(String),
    /// Logged where it happened; the caller sees only that it failed.
    #[error("internal error")]
    Internal,
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Logs `error` and hides it behind [`Error::Internal`].
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        Error::Internal
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Error::Refused(_) => ErrorCode::RuleRefused,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Internal => ErrorCode::Internal,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let code = error.code().grpc();
        match &error {
            Error::InvalidArgument { field, reason } => {
                let mut details = ErrorDetails::new();
                details.add_bad_request_violation(field.clone(), reason.clone());
                tonic::Status::with_error_details(code, error.to_string(), details)
            }
            _ => tonic::Status::new(code, error.to_string()),
        }
    }
}

impl From<deedlog_eventstore::Error> for Error {
    fn from(error: deedlog_eventstore::Error) -> Self {
        use deedlog_eventstore::Error as E;
        match error {
            E::Conflict { .. } => Error::Conflict(error.to_string()),
            E::CommandIdReused { .. } => Error::invalid(
                "command.command_id",
                "this command id was already used for another record; use a new id per command",
            ),
            E::CommandMismatch { .. } => Error::invalid(
                "command.command_id",
                "this command id was already used with a different request; \
                 repeat a command with exactly the same request, or use a new id",
            ),
            E::StreamNotInTenant { .. } => Error::NotFound("no such record".to_owned()),
            E::StreamTypeMismatch { .. } => {
                Error::invalid("id", "this id belongs to a record of another kind")
            }
            E::TooManyEvents { .. } | E::PayloadTooLarge { .. } => {
                Error::Refused(error.to_string())
            }
            E::UnknownTenant { .. } => Error::NotFound("the tenant does not exist".to_owned()),
            E::Unavailable { .. } => {
                tracing::warn!(error = %error, "event log unavailable");
                Error::Unavailable("the event log is unavailable; retry shortly".to_owned())
            }
            other => Error::internal("event log failure", &other),
        }
    }
}

impl From<deedlog_runtime::auth::Error> for Error {
    fn from(error: deedlog_runtime::auth::Error) -> Self {
        Error::Unauthenticated(error.to_string())
    }
}

/// A token whose user may not act now: UNAUTHENTICATED when the tenant no
/// longer has them as an active user (the token is worth nothing any more),
/// FAILED_PRECONDITION, like any rule's refusal and like signing in, when
/// their tenant is suspended and they are neither admin nor auditor.
impl From<deedlog_kernel::Denied> for Error {
    fn from(denied: deedlog_kernel::Denied) -> Self {
        if denied.is_unauthenticated() {
            Error::Unauthenticated(denied.to_string())
        } else {
            Error::Refused(denied.to_string())
        }
    }
}
