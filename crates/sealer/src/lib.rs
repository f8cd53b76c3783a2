//! The log's seals at work (ADR 0037): the [`sealer`] that writes them,
//! [`verify`] that checks the log against them, and [`prove`] that gives
//! one event's inclusion proof. What a seal is lives in `deedlog-seal`.

pub mod error;
pub mod sealer;
pub mod store;
pub mod verify;

pub use error::Error;
pub use sealer::{SealStats, Sealer, SealerOptions};

use deedlog_eventstore::{LogReader, RecordedEvent};
use deedlog_seal::leaf::Fields;
use deedlog_seal::proof::{Proof, ProvenEvent};

/// The leaf fields of an event as the log stores it.
pub fn fields(e: &RecordedEvent) -> Fields<'_> {
    let trace = e.trace.as_ref();
    Fields {
        position: e.position,
        tenant_id: e.tenant_id.as_uuid(),
        stream_id: e.stream_id.as_uuid(),
        stream_type: &e.stream_type,
        version: e.version,
        event_type: &e.event_type,
        schema_version: e.stored_schema_version,
        payload: &e.payload,
        actor: &e.actor,
        command_id: e.command_id.as_uuid(),
        correlation_id: e.correlation_id.as_uuid(),
        causation_id: e.causation_id.as_uuid(),
        traceparent: trace.map_or("", |t| t.traceparent.as_str()),
        tracestate: trace.and_then(|t| t.tracestate.as_deref()).unwrap_or(""),
        occurred_at_micros: e.occurred_at.timestamp_micros(),
        recorded_at_micros: e.recorded_at.timestamp_micros(),
    }
}

/// The leaf hash of an event as stored.
pub fn leaf(e: &RecordedEvent) -> deedlog_seal::merkle::Hash {
    fields(e).hash()
}

/// The inclusion proof of the event at `position`, or `None` when no seal
/// covers it yet or no event stands there.
pub async fn prove(reader: &LogReader, position: u64) -> Result<Option<Proof>, Error> {
    let reader = reader.raw();
    let Some(signed) = store::head_covering(reader.pool(), position).await? else {
        return Ok(None);
    };
    let Some(event) = reader
        .read_settled(position.saturating_sub(1), position, 1)
        .await?
        .into_iter()
        .find(|e| e.position == position)
    else {
        return Ok(None);
    };
    let leaves: Vec<_> = store::leaves(reader.pool(), signed.head.block)
        .await?
        .into_iter()
        .map(|l| l.hash)
        .collect();
    Ok(Proof::new(
        ProvenEvent::from_fields(&fields(&event)),
        &signed,
        &leaves,
    ))
}
