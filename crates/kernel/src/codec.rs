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

/// Rebuilds an event from its type name and its payload as stored (JSON
/// text): the one decoder of stored events, for the services, the
/// projections and the CLI alike.
///
/// Putting the enum's wrapper back around the payload text and parsing once
/// is several times faster than going through `serde_json::Value`, which is
/// what keeps rebuilds and replays fast.
pub fn decode<E: DeserializeOwned>(event_type: &str, payload: &str) -> Result<E, CodecError> {
    let error = |source| CodecError {
        event_type: event_type.to_owned(),
        source,
    };
    let name = serde_json::to_string(event_type).map_err(error)?;
    let mut tagged = String::with_capacity(payload.len() + name.len() + 20);
    tagged.push_str("{\"type\":");
    tagged.push_str(&name);
    tagged.push_str(",\"data\":");
    tagged.push_str(payload);
    tagged.push('}');
    serde_json::from_str(&tagged).map_err(error)
}
