//! Finding the row an event of an existing stream applies to, and whether
//! the event reached it already.

use crate::projection::ApplyError;
use deedlog_eventstore::RecordedEvent;
use deedlog_read_model::Int64;
use std::collections::HashMap;
use uuid::Uuid;

/// The row of `recorded`'s stream in `rows`, unless the row is already at
/// or past the event (a replayed dead letter that had gone through):
/// `None` then. A stream without a row is the event's error, `missing`
/// saying which creation was not applied. `last_position` reads the row's
/// position.
pub fn unapplied<'a, R>(
    rows: &'a mut HashMap<Uuid, R>,
    recorded: &RecordedEvent,
    missing: &'static str,
    last_position: fn(&R) -> Int64,
) -> Result<Option<&'a mut R>, ApplyError> {
    let row = rows
        .get_mut(&recorded.stream_id.as_uuid())
        .ok_or_else(|| ApplyError::event(recorded, missing))?;
    let position: Int64 = super::decode::big(recorded.position);
    Ok((last_position(row) < position).then_some(row))
}
