//! Checks an append request before it reaches the database, so a bad request
//! is refused with a precise reason and never half-written.

use crate::append::AppendRequest;
use crate::error::Error;
use deedlog_kernel::validate_name;

/// Largest payload of one event, in bytes of JSON text.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Most events one command may append.
pub const MAX_EVENTS_PER_APPEND: usize = 10_000;
/// Longest actor description.
pub const MAX_ACTOR_LEN: usize = 256;
/// Largest stream version the log stores (a PostgreSQL bigint).
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// Returns the first reason `request` cannot be appended, if any.
pub fn check(request: &AppendRequest) -> Result<(), Error> {
    let events = &request.events;
    if events.is_empty() {
        return Err(Error::EmptyAppend);
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(Error::TooManyEvents {
            count: events.len(),
            limit: MAX_EVENTS_PER_APPEND,
        });
    }
    validate_name(&request.stream_type).map_err(|reason| Error::InvalidName {
        what: "stream type",
        name: request.stream_type.clone(),
        reason,
    })?;
    let actor = request.metadata.actor.trim();
    if actor.is_empty() {
        return Err(Error::MissingActor);
    }
    if actor.len() > MAX_ACTOR_LEN {
        return Err(Error::ActorTooLong {
            len: actor.len(),
            limit: MAX_ACTOR_LEN,
        });
    }
    if let Some(trace) = &request.metadata.trace {
        if !trace.is_well_formed() {
            return Err(Error::InvalidTraceContext {
                traceparent: trace.traceparent.clone(),
            });
        }
    }
    for (index, event) in events.iter().enumerate() {
        validate_name(&event.event_type).map_err(|reason| Error::InvalidName {
            what: "event type",
            name: event.event_type.clone(),
            reason,
        })?;
        // The log stores schema versions as a PostgreSQL integer.
        if event.schema_version == 0 || i32::try_from(event.schema_version).is_err() {
            return Err(Error::InvalidSchemaVersion {
                index,
                event_type: event.event_type.clone(),
                version: event.schema_version,
            });
        }
        let json = event.payload.get();
        if json.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::PayloadTooLarge {
                index,
                event_type: event.event_type.clone(),
                size: json.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        if !json.trim_start().starts_with('{') {
            return Err(Error::PayloadNotObject {
                index,
                event_type: event.event_type.clone(),
            });
        }
    }
    if let crate::ExpectedVersion::Exact(version) = request.expected {
        // Count fits: it is at most MAX_EVENTS_PER_APPEND.
        let adding = events.len() as u64;
        if version > MAX_VERSION - adding {
            return Err(Error::VersionOverflow {
                stream: request.stream_id,
                version,
                adding: events.len(),
                max: MAX_VERSION,
            });
        }
    }
    Ok(())
}
