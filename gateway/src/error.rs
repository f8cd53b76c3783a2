//! Errors as GraphQL clients see them: a message a person understands and
//! `extensions.code` from the one edge vocabulary ([`ErrorCode`]). Internal
//! failures are logged here, once, and reach the client only as `INTERNAL`.

use async_graphql::{Error, ErrorExtensions};
use deedlog_runtime::ErrorCode;

/// A GraphQL error with `extensions.code`.
pub fn coded(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code.graphql()))
}

pub fn bad_input(message: impl Into<String>) -> Error {
    coded(ErrorCode::InvalidArgument, message)
}

pub fn not_found(what: &str) -> Error {
    coded(ErrorCode::NotFound, format!("{what} not found"))
}

pub fn forbidden(what: &str) -> Error {
    coded(
        ErrorCode::PermissionDenied,
        format!("your role may not {what}"),
    )
}

/// Logs `detail` and returns the opaque error clients get.
pub fn internal(context: &str, detail: &dyn std::fmt::Display) -> Error {
    tracing::error!(error = %detail, "{context}");
    coded(ErrorCode::Internal, "internal error; it has been logged")
}

/// A read-model error: bad input and lag are the caller's to see, a database
/// failure is not.
pub fn from_read(error: deedlog_read_model::Error) -> Error {
    use deedlog_read_model::Error as E;
    match error {
        E::BadInput { .. } => bad_input(error.to_string()),
        E::NotCaughtUp { .. } => coded(ErrorCode::Unavailable, error.to_string())
            .extend_with(|_, e| e.set("reason", "READ_MODEL_BEHIND")),
        E::Database { .. } => internal("read a read model", &error),
    }
}

/// A command service's answer: its messages are written for callers (the
/// services never put internal text into a status), except for internal
/// and unavailable ones, which are logged and hidden.
pub fn from_status(status: tonic::Status) -> Error {
    let code = ErrorCode::from_grpc(status.code());
    match code {
        ErrorCode::Internal | ErrorCode::Unavailable => {
            internal("call a command service", &format!("{status:?}"))
        }
        _ => coded(code, status.message().to_owned()),
    }
}

/// A token that was not accepted.
pub fn from_auth(error: deedlog_runtime::auth::Error) -> Error {
    coded(ErrorCode::Unauthenticated, error.to_string())
}
