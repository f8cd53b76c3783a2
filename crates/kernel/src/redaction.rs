//! What of a stored event a person may see (ADR 0023): the one rule every
//! reader that shows payloads to people applies (GraphQL `auditEvents`,
//! `deedlog audit history` and `deedlog audit export`).
//!
//! The log keeps credential material: a user's `credentials` stream holds
//! the Argon2id hash of their password and the ids of their refresh tokens.
//! Neither is a password or a usable token, but a hash allows offline
//! guessing and a token id ties a request to a session, so no reader for
//! people shows them. The rule is by stream type and denies by default:
//! in a payload of a [secret stream type](SECRET_STREAM_TYPES) every value
//! is replaced by [`REDACTED`] except the instants named in
//! [`REVEALED_FIELDS`]. Keys and nesting stay, so an auditor still sees
//! that a password was set or a token rotated, when, and (from the event's
//! metadata) by whom; a field a later credentials event adds is redacted
//! until it is named here.
//!
//! Projections and the command services read payloads as stored: this is
//! about what people are shown, not what the log holds.

use crate::stream_type::CREDENTIALS;
use serde_json::Value;

/// What a secret value reads as.
pub const REDACTED: &str = "[redacted]";

/// Stream types whose payloads hold credential material.
pub const SECRET_STREAM_TYPES: &[&str] = &[CREDENTIALS];

/// Fields of a secret stream's payloads that are shown: instants only
/// (when a login happened, until when a lock-out or a token lasts).
pub const REVEALED_FIELDS: &[&str] = &["at", "until", "expires_at"];

/// Whether payloads of `stream_type` are redacted before people see them.
pub fn is_secret(stream_type: &str) -> bool {
    SECRET_STREAM_TYPES.contains(&stream_type)
}

/// Redacts `payload`, an event payload of a stream of `stream_type`, in
/// place: a no-op unless the stream type [is secret](is_secret).
pub fn redact(stream_type: &str, payload: &mut Value) {
    if is_secret(stream_type) {
        scrub(payload);
    }
}

/// `payload` as people may see it (see [`redact`]).
pub fn redacted(stream_type: &str, mut payload: Value) -> Value {
    redact(stream_type, &mut payload);
    payload
}

/// A payload stored as JSON text, as people may see it: unchanged unless
/// the stream type is secret; then redacted and re-serialised, or, if the
/// text is not JSON, [`REDACTED`] as a whole (a reader never falls back to
/// printing secret text it could not parse).
pub fn redacted_text(stream_type: &str, payload: &str) -> String {
    if !is_secret(stream_type) {
        return payload.to_owned();
    }
    match serde_json::from_str::<Value>(payload) {
        Ok(value) => redacted(stream_type, value).to_string(),
        Err(_) => Value::from(REDACTED).to_string(),
    }
}

/// Replaces every value below `value` by [`REDACTED`], except revealed
/// instants; `null` stays (it holds nothing), objects and arrays are walked.
fn scrub(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                let revealed = REVEALED_FIELDS.contains(&key.as_str())
                    && matches!(field, Value::String(_) | Value::Number(_) | Value::Null);
                if !revealed {
                    scrub(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Null => {}
        other => *other = Value::from(REDACTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_secret_stream_keeps_its_keys_and_instants_and_nothing_else() {
        let stored = json!({
            "at": "2026-11-23T09:14:03Z",
            "hash": "$argon2id$v=19$m=19456,t=2,p=1$salt$hash",
            "token": { "id": "51493d8d-9ba9-8dcb-217e-83a209235184", "expires_at": "2026-12-23T09:14:03Z" },
            "family": ["79175e70-eb22-3687-6b0c-003be5829469", 7, true],
            "nothing": null,
            "until": { "id": "51493d8d-9ba9-8dcb-217e-83a209235184" }
        });
        assert_eq!(
            redacted(CREDENTIALS, stored),
            json!({
                "at": "2026-11-23T09:14:03Z",
                "hash": REDACTED,
                "token": { "id": REDACTED, "expires_at": "2026-12-23T09:14:03Z" },
                "family": [REDACTED, REDACTED, REDACTED],
                "nothing": null,
                "until": { "id": REDACTED }
            })
        );
        assert_eq!(redacted(CREDENTIALS, json!("bare")), json!(REDACTED));
    }

    #[test]
    fn other_streams_are_shown_as_stored() {
        let stored = json!({ "hash": "not a secret here", "id": 1 });
        assert_eq!(redacted("property", stored.clone()), stored);
        assert_eq!(redacted_text("deal", "{\"id\":1}"), "{\"id\":1}");
    }

    #[test]
    fn text_that_is_not_json_is_redacted_whole() {
        assert_eq!(
            redacted_text(CREDENTIALS, "$argon2id$ not json"),
            "\"[redacted]\""
        );
        assert_eq!(
            redacted_text(CREDENTIALS, r#"{"token":"x"}"#),
            r#"{"token":"[redacted]"}"#
        );
    }
}
