//! Picking a projection's events out of a batch and decoding them.

use crate::projection::ApplyError;
use deedlog_eventstore::RecordedEvent;
use serde::de::DeserializeOwned;

/// The events of `stream_type` in `events`, decoded into the context's
/// event enum; an event that does not decode is the batch's error.
pub fn events_of<'a, E: DeserializeOwned>(
    events: &'a [RecordedEvent],
    stream_type: &str,
) -> Result<Vec<(&'a RecordedEvent, E)>, ApplyError> {
    events
        .iter()
        .filter(|e| e.stream_type == stream_type)
        .map(|e| decode(e).map(|decoded| (e, decoded)))
        .collect()
}

/// Decodes one stored event into its context's enum (`deedlog_kernel::codec`).
pub fn decode<E: DeserializeOwned>(event: &RecordedEvent) -> Result<E, ApplyError> {
    deedlog_kernel::codec::decode(&event.event_type, &event.payload)
        .map_err(|e| ApplyError::event(event, e.source))
}

/// The distinct stream ids of `events`, in first-seen order.
pub fn stream_ids<E>(events: &[(&RecordedEvent, E)]) -> Vec<uuid::Uuid> {
    let mut seen = std::collections::HashSet::new();
    events
        .iter()
        .map(|(e, _)| e.stream_id.as_uuid())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// A serde enum's snake_case name, e.g. `multi_family`.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A log position or version as a SQL bigint.
pub fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
