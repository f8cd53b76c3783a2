//! The stored form of a domain event: its type name and a JSON object with
//! the variant's fields. Domain event enums derive serde with
//! `#[serde(tag = "type", content = "data")]` and struct variants, so one
//! pair of functions serves every context.

use crate::decider::DomainEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// An event that does not match the stored form.
#[derive(Debug, thiserror::Error)]
#[error("event {event_type}: {source}")]
pub struct CodecError {
    pub event_type: String,
    #[source]
    pub source: serde_json::Error,
}

/// Splits an event into its type name and payload.
pub fn encode<E: Serialize + DomainEvent>(event: &E) -> Result<(&'static str, Value), CodecError> {
    let event_type = event.event_type();
    let mut tagged = serde_json::to_value(event).map_err(|source| CodecError {
        event_type: event_type.to_owned(),
        source,
    })?;
    let payload = tagged
        .get_mut("data")
        .map(Value::take)
        .unwrap_or_else(|| Value::Object(Default::default()));
    Ok((event_type, payload))
}

/// Rebuilds an event from its type name and payload.
pub fn decode<E: DeserializeOwned>(event_type: &str, payload: Value) -> Result<E, CodecError> {
    serde_json::from_value(serde_json::json!({ "type": event_type, "data": payload })).map_err(
        |source| CodecError {
            event_type: event_type.to_owned(),
            source,
        },
    )
}
