//! Errors as GraphQL clients see them: a message a person understands and
//! `extensions.code` from the one edge vocabulary ([`ErrorCode`]); a bad
//! argument also names the input it is about in `extensions.field`, as a
//! path of the mutation's arguments (`input.offer.amountMinor`). Internal
//! failures are logged here, once, and reach the client only as `INTERNAL`.

use async_graphql::{Error, ErrorExtensions, Name, Value};
use deedlog_runtime::ErrorCode;
use tonic_types::StatusExt;

/// A GraphQL error with `extensions.code` and `extensions.retryable`.
pub fn coded(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| {
        e.set("code", code.graphql());
        e.set("retryable", code.retryable());
    })
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
        E::Database { .. } | E::Overflow(_) => internal("read a read model", &error),
        // Corruption, said with its position and field (never a plaintext).
        E::Privacy(deedlog_privacy::Error::Damaged { .. }) => {
            tracing::error!(%error, "a sealed personal field does not open");
            coded(ErrorCode::Internal, error.to_string())
                .extend_with(|_, e| e.set("reason", "SEALED_FIELD_DAMAGED"))
        }
        E::Privacy(_) => internal("open personal data", &error),
    }
}

/// A command service's answer: its messages are written for callers (the
/// services never put internal text into a status), except for internal
/// and unavailable ones, which are logged and hidden (an unavailable one
/// stays UNAVAILABLE, to be retried). A rule's `ErrorInfo` becomes
/// `extensions.reason` and `extensions.details`.
pub fn from_status(status: tonic::Status) -> Error {
    let code = ErrorCode::from_grpc(status.code());
    let error = match code {
        ErrorCode::Internal => return internal("call a command service", &format!("{status:?}")),
        ErrorCode::Unavailable => {
            tracing::warn!(?status, "a command service is unavailable");
            return coded(code, "a service is unavailable; retry shortly");
        }
        _ => coded(code, status.message().to_owned()),
    };
    with_reason(error, &status)
}

/// `extensions.reason` and `extensions.details` from the status's `ErrorInfo`, if any.
fn with_reason(error: Error, status: &tonic::Status) -> Error {
    let Some(info) = status.get_error_details().error_info().cloned() else {
        return error;
    };
    error.extend_with(move |_, e| {
        e.set("reason", info.reason.clone());
        let sorted: std::collections::BTreeMap<&String, &String> = info.metadata.iter().collect();
        let details: async_graphql::indexmap::IndexMap<Name, Value> = sorted
            .into_iter()
            .map(|(k, v)| (Name::new(k), Value::from(v.clone())))
            .collect();
        e.set("details", Value::Object(details));
    })
}

/// A command service's answer to a mutation called with `arguments`: like
/// [`from_status`], and a field violation's request path (`offer.amount_minor`)
/// becomes the GraphQL path of the argument it came from
/// (`input.offer.amountMinor`), in `extensions.field` and in the message.
pub fn from_command_status(status: tonic::Status, arguments: &[(Name, Value)]) -> Error {
    let field = status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()));
    let Some(field) = field else {
        return from_status(status);
    };
    let path = graphql_path(&field, arguments);
    let code = ErrorCode::from_grpc(status.code());
    let message = match status.message().strip_prefix(&format!("{field}:")) {
        Some(reason) => format!("{path}:{reason}"),
        None => status.message().to_owned(),
    };
    coded(code, message).extend_with(|_, e| e.set("field", path.clone()))
}

/// The GraphQL path of a command request's field. Segments are camel-cased
/// (`amount_minor` → `amountMinor`); the command options are the `command`
/// argument (`command.command_id` → `command.idempotencyKey`); a field that
/// is no argument of its own is looked for in the input-object arguments
/// (`offer` in `input` → `input.offer`).
pub fn graphql_path(field: &str, arguments: &[(Name, Value)]) -> String {
    if let Some(option) = field.strip_prefix("command.") {
        let option = match option {
            "command_id" => "idempotencyKey".to_owned(),
            other => camel(other),
        };
        return format!("command.{option}");
    }
    let path = camel(field);
    let first = path.split(['.', '[']).next().unwrap_or_default();
    if arguments.iter().any(|(name, _)| name.as_str() == first) {
        return path;
    }
    let holder = arguments.iter().find(|(_, value)| match value {
        Value::Object(fields) => fields.keys().any(|key| key.as_str() == first),
        _ => false,
    });
    match holder {
        Some((name, _)) => format!("{name}.{path}"),
        None => path,
    }
}

/// `snake_case` segments of a path in `camelCase`; indexes stay as they are.
fn camel(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// A token that was not accepted.
pub fn from_auth(error: deedlog_runtime::auth::Error) -> Error {
    coded(ErrorCode::Unauthenticated, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::indexmap::IndexMap;

    fn object(keys: &[&str]) -> Value {
        let fields: IndexMap<Name, Value> =
            keys.iter().map(|k| (Name::new(k), Value::Null)).collect();
        Value::Object(fields)
    }

    #[test]
    fn request_paths_become_argument_paths() {
        let open_deal = [
            (Name::new("command"), object(&["idempotencyKey"])),
            (Name::new("input"), object(&["propertyId", "offer"])),
        ];
        assert_eq!(
            graphql_path("offer.amount_minor", &open_deal),
            "input.offer.amountMinor"
        );
        assert_eq!(
            graphql_path("offer.currency", &open_deal),
            "input.offer.currency"
        );
        assert_eq!(
            graphql_path("command.command_id", &open_deal),
            "command.idempotencyKey"
        );
        let scenario = [
            (Name::new("dealId"), Value::Null),
            (Name::new("scenario"), object(&["name", "costs"])),
        ];
        assert_eq!(
            graphql_path("costs[0].amount.amount_minor", &scenario),
            "scenario.costs[0].amount.amountMinor"
        );
        assert_eq!(graphql_path("deal_id", &scenario), "dealId");
        let contact = [(Name::new("details"), object(&["name"]))];
        assert_eq!(graphql_path("details.name", &contact), "details.name");
    }
}
