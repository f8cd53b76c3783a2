//! A command service's failures and their gRPC form: field violations for
//! bad arguments, an `ErrorInfo` with the rule's stable reason for refusals
//! and conflicts, and nothing internal.

use deedlog_kernel::Reason;
use deedlog_runtime::ErrorCode;
use std::collections::HashMap;
use tonic_types::{ErrorDetails, StatusExt};

/// `ErrorInfo.domain` of deedlog's reasons.
pub const REASON_DOMAIN: &str = "deedlog";

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    /// The rules refuse the command: `message` says why in words, `reason`
    /// for programs.
    #[error("{message}")]
    Refused { message: String, reason: Reason },
    #[error("{0}")]
    NotFound(String),
    /// Another command changed the record first (`VERSION_CONFLICT`).
    #[error("{message}")]
    Conflict { message: String, reason: Reason },
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

    pub fn refused(reason: Reason, message: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            reason,
        }
    }

    /// The record is at `actual`, not at `expected` (`any` when the caller
    /// named none and a concurrent writer won every retry).
    pub fn conflict(
        message: impl Into<String>,
        record: impl std::fmt::Display,
        expected: impl std::fmt::Display,
        actual: u64,
    ) -> Self {
        Error::Conflict {
            message: message.into(),
            reason: Reason::new("VERSION_CONFLICT")
                .with("recordId", record)
                .with("expectedVersion", expected)
                .with("actualVersion", actual),
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
            Error::Refused { .. } => ErrorCode::RuleRefused,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict { .. } => ErrorCode::Conflict,
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
            Error::Refused { reason, .. } | Error::Conflict { reason, .. } => {
                let metadata: HashMap<String, String> = reason
                    .details
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect();
                let details = ErrorDetails::with_error_info(reason.code, REASON_DOMAIN, metadata);
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
            E::Conflict {
                stream,
                expected,
                actual,
            } => {
                let expected = match expected {
                    deedlog_eventstore::ExpectedVersion::Exact(v) => v.to_string(),
                    deedlog_eventstore::ExpectedVersion::NoStream => "0".to_owned(),
                    deedlog_eventstore::ExpectedVersion::Any => "any".to_owned(),
                };
                Error::conflict(error.to_string(), stream, expected, actual)
            }
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
            E::TooManyEvents { limit, .. } => Error::refused(
                Reason::new("TOO_MANY_EVENTS").with("limit", limit),
                error.to_string(),
            ),
            E::PayloadTooLarge { limit, .. } => Error::refused(
                Reason::new("PAYLOAD_TOO_LARGE").with("limit", limit),
                error.to_string(),
            ),
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
            Error::refused(
                Reason::new(deedlog_kernel::TENANT_SUSPENDED),
                denied.to_string(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Every `Reason::new("…")` literal in the services' and shared crates' sources.
    fn reasons_in(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                reasons_in(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source");
                for piece in text.split("Reason::new(\"").skip(1) {
                    let code = piece.split('"').next().unwrap_or_default();
                    if code.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                        found.insert(code.to_owned());
                    }
                }
            }
        }
    }

    /// docs/errors.md lists every reason a refusal or conflict can carry,
    /// and nothing else, so clients can rely on the table.
    #[test]
    fn every_reason_is_documented() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut used = BTreeSet::from([deedlog_kernel::TENANT_SUSPENDED.to_owned()]);
        for dir in ["crates", "services"] {
            reasons_in(&root.join(dir), &mut used);
        }
        let docs = include_str!("../../../docs/errors.md");
        let table = docs
            .split("## Reasons")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("docs/errors.md has a Reasons section");
        let documented: BTreeSet<String> = table
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .map(str::to_owned)
            .collect();
        assert!(used.len() > 30, "found {used:?}");
        assert_eq!(used, documented);
    }
}
