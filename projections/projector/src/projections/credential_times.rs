//! What the tenancy projection takes from a credentials event: its type
//! and its instants. That is all a redacted payload keeps (the Kafka topic
//! carries credentials redacted, ADR 0023), so an event projects alike
//! from the log and from the topic, and no secret can reach a row.

use super::decode::decode;
use crate::projection::ApplyError;
use chrono::{DateTime, Utc};
use deedlog_eventstore::RecordedEvent;
use serde::Deserialize;

/// A credentials event as the projection sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CredentialTimes {
    PasswordSet {},
    LoginSucceeded {
        at: DateTime<Utc>,
    },
    LoginFailed {
        at: DateTime<Utc>,
    },
    LockedOut {
        until: DateTime<Utc>,
    },
    AllRefreshTokensRevoked {},
    /// Token rotation, revocation and reuse: nothing of them is projected.
    #[serde(
        alias = "RefreshTokenRotated",
        alias = "RefreshTokenRevoked",
        alias = "RefreshTokenReused"
    )]
    TokenChanged {},
}

/// Decodes `event`, a credentials event, stored or redacted.
pub fn decode_times(event: &RecordedEvent) -> Result<CredentialTimes, ApplyError> {
    decode(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_kernel::redaction::redacted_text;
    use deedlog_kernel::stream_type::CREDENTIALS;
    use deedlog_kernel::{CausationId, CommandId, CorrelationId, StreamId, TenantId};
    use uuid::Uuid;

    fn recorded(event_type: &str, payload: &str) -> RecordedEvent {
        RecordedEvent {
            position: 1,
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            stream_type: CREDENTIALS.to_owned(),
            stream_id: StreamId::from_uuid(Uuid::from_u128(2)),
            version: 1,
            event_type: event_type.to_owned(),
            schema_version: 1,
            stored_schema_version: 1,
            payload: payload.to_owned(),
            actor: "system".to_owned(),
            command_id: CommandId::from_uuid(Uuid::from_u128(3)),
            correlation_id: CorrelationId::from_uuid(Uuid::from_u128(4)),
            causation_id: CausationId::from_uuid(Uuid::from_u128(5)),
            trace: None,
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
        }
    }

    /// Every credentials event type decodes the same from its stored and
    /// its redacted payload.
    #[test]
    fn stored_and_redacted_payloads_project_alike() {
        let at = "2026-12-05T10:00:00Z";
        let token =
            r#"{"id":"0193a0f2-7a6b-7c3d-8e9f-0a1b2c3d4e5f","expires_at":"2026-12-12T10:00:00Z"}"#;
        let id = "\"0193a0f2-7a6b-7c3d-8e9f-0a1b2c3d4e5f\"";
        let stored = [
            (
                "PasswordSet",
                r#"{"hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}"#.to_owned(),
            ),
            (
                "LoginSucceeded",
                format!(r#"{{"at":"{at}","token":{token}}}"#),
            ),
            ("LoginFailed", format!(r#"{{"at":"{at}"}}"#)),
            ("LockedOut", format!(r#"{{"until":"{at}"}}"#)),
            (
                "RefreshTokenRotated",
                format!(r#"{{"old":{id},"new":{token}}}"#),
            ),
            ("RefreshTokenRevoked", format!(r#"{{"token":{id}}}"#)),
            ("AllRefreshTokensRevoked", "{}".to_owned()),
            (
                "RefreshTokenReused",
                format!(r#"{{"token":{id},"family":{id}}}"#),
            ),
        ];
        for (event_type, payload) in stored {
            let plain = decode_times(&recorded(event_type, &payload)).expect(event_type);
            let hidden = redacted_text(CREDENTIALS, &payload);
            assert!(!hidden.contains("argon2id") && !hidden.contains("0193a0f2"));
            let redacted = decode_times(&recorded(event_type, &hidden)).expect(event_type);
            assert_eq!(plain, redacted, "{event_type}");
        }
        assert!(decode_times(&recorded("Invented", "{}")).is_err());
    }
}
