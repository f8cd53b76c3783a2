//! Picking a projection's events out of a batch and decoding them.

use crate::projection::ApplyError;
use deedlog_eventstore::RecordedEvent;
use serde::de::DeserializeOwned;

/// A batch's events of one stream type, each with its decoded event.
pub type Decoded<'a, E> = [(&'a RecordedEvent, E)];

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
pub fn stream_ids<E>(events: &Decoded<'_, E>) -> Vec<uuid::Uuid> {
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

/// A count or measure for an SQL `integer` column. The domain keeps these
/// far inside its range; a value beyond it is named, as the column would
/// refuse it anyway.
pub fn int<T>(column: &'static str, value: T) -> Result<i32, String>
where
    T: TryInto<i32> + Copy + std::fmt::Display,
{
    value
        .try_into()
        .map_err(|_| format!("{column} {value} is beyond the column's range"))
}

/// A log position or version as a SQL bigint (`i64`, or the rows'
/// `Int64`). They were read from bigint columns, so they always fit; the
/// saturation only keeps this total.
pub fn big<T: From<i64>>(value: u64) -> T {
    T::from(deedlog_kernel::number::saturating_i64(value))
}
