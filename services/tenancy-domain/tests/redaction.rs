//! Every credentials event type, as people are shown it (ADR 0023): its
//! secret fields read `[redacted]`, its instants stay. A new variant does
//! not compile here until `secret_fields` says what of it is secret, and
//! fails until `one_of_each` has a sample of it.

use chrono::{DateTime, TimeZone, Utc};
use deedlog_kernel::codec;
use deedlog_kernel::redaction::{redacted, REDACTED, REVEALED_FIELDS};
use deedlog_kernel::stream_type::CREDENTIALS;
use deedlog_kernel::DomainEvent;
use deedlog_tenancy_domain::credentials::{Event, NewToken};
use serde_json::Value;
use std::collections::BTreeSet;
use uuid::Uuid;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$WhOcRAfhay2Q8ziqHHVOuA$FwLMKO9W2Gh3xEk5F6KkYDJWHQONqwdl64J5vpJID2M";

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, minute, 0)
        .single()
        .expect("a valid instant")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x5149_3d8d_9ba9_8dcb_217e_83a2_0923_0000 + n)
}

fn token(n: u128) -> NewToken {
    NewToken {
        id: id(n),
        expires_at: at(30),
    }
}

/// The fields (paths into the payload) that must never be shown. The match
/// has no wildcard: a new variant is a compile error here until its author
/// decides, and the redaction rule (deny by default) already hides it.
fn secret_fields(event: &Event) -> &'static [&'static str] {
    match event {
        Event::PasswordSet { .. } => &["hash"],
        Event::LoginSucceeded { .. } => &["token.id"],
        Event::LoginFailed { .. } => &[],
        Event::LockedOut { .. } => &[],
        Event::RefreshTokenRotated { .. } => &["old", "new.id"],
        Event::RefreshTokenRevoked { .. } => &["token"],
        Event::AllRefreshTokensRevoked {} => &[],
        Event::RefreshTokenReused { .. } => &["token", "family"],
    }
}

/// One event of every type, each secret value distinct.
fn one_of_each() -> Vec<Event> {
    vec![
        Event::PasswordSet {
            hash: HASH.to_owned(),
        },
        Event::LoginSucceeded {
            at: at(1),
            token: token(1),
        },
        Event::LoginFailed { at: at(2) },
        Event::LockedOut { until: at(17) },
        Event::RefreshTokenRotated {
            old: id(2),
            new: token(3),
        },
        Event::RefreshTokenRevoked { token: id(4) },
        Event::AllRefreshTokensRevoked {},
        Event::RefreshTokenReused {
            token: id(5),
            family: id(6),
        },
    ]
}

fn field<'a>(payload: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(payload, |v, key| &v[key])
}

/// Every leaf of `value` with the key it sits under.
fn leaves<'a>(value: &'a Value, key: &'a str, into: &mut Vec<(&'a str, &'a Value)>) {
    match value {
        Value::Object(fields) => fields.iter().for_each(|(k, v)| leaves(v, k.as_str(), into)),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, key, into)),
        leaf => into.push((key, leaf)),
    }
}

#[test]
fn every_credentials_event_type_is_shown_without_its_secrets() {
    for event in one_of_each() {
        let (event_type, stored) = codec::encode(&event).expect("encodes");
        let shown = redacted(CREDENTIALS, stored.clone());
        let text = shown.to_string();

        for path in secret_fields(&event) {
            assert!(
                !field(&stored, path).is_null(),
                "{event_type}: `{path}` is a field of the stored payload {stored}"
            );
            assert_eq!(field(&shown, path), REDACTED, "{event_type}: `{path}`");
        }
        // No stored value that is not an instant appears in what is shown.
        let mut stored_leaves = Vec::new();
        leaves(&stored, "", &mut stored_leaves);
        for (key, value) in stored_leaves {
            if REVEALED_FIELDS.contains(&key) {
                continue;
            }
            if let Value::String(secret) = value {
                assert!(
                    !text.contains(secret.as_str()),
                    "{event_type} shows {key} = {secret}: {text}"
                );
            }
        }
        // What is shown: the same keys, instants as stored, the rest redacted.
        let mut shown_leaves = Vec::new();
        leaves(&shown, "", &mut shown_leaves);
        for (key, value) in shown_leaves {
            assert!(
                value == REDACTED || value.is_null() || REVEALED_FIELDS.contains(&key),
                "{event_type}: {key} = {value} is shown"
            );
        }
        assert_eq!(
            keys(&stored),
            keys(&shown),
            "{event_type} keeps its fields' names"
        );
        for instant in REVEALED_FIELDS {
            for (path, value) in [
                (instant.to_string(), field(&stored, instant)),
                (
                    format!("token.{instant}"),
                    field(&stored, &format!("token.{instant}")),
                ),
                (
                    format!("new.{instant}"),
                    field(&stored, &format!("new.{instant}")),
                ),
            ] {
                if value.is_string() {
                    assert_eq!(field(&shown, &path), value, "{event_type}: `{path}` shown");
                }
            }
        }
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    fn walk(value: &Value, prefix: &str, keys: &mut BTreeSet<String>) {
        if let Value::Object(fields) = value {
            for (k, v) in fields {
                let path = format!("{prefix}{k}");
                walk(v, &format!("{path}."), keys);
                keys.insert(path);
            }
        }
    }
    walk(value, "", &mut keys);
    keys
}

/// The samples cover every credentials event type the event index of
/// `docs/events.md` lists (a new type is documented there).
#[test]
fn the_samples_cover_every_documented_credentials_event_type() {
    let docs = include_str!("../../../docs/events.md");
    let row = docs
        .lines()
        .find(|l| l.starts_with("| `credentials` ("))
        .expect("docs/events.md indexes the credentials event types");
    let documented: BTreeSet<&str> = row
        .rsplit('|')
        .nth(1)
        .expect("the row's last cell")
        .split(',')
        .map(|t| t.trim().trim_matches('`'))
        .collect();
    let sampled: BTreeSet<&str> = one_of_each().iter().map(|e| e.event_type()).collect();
    assert_eq!(sampled, documented);
    assert_eq!(one_of_each().len(), sampled.len(), "one sample per type");
}
