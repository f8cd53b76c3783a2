//! An event's inclusion proof (ADR 0037, docs/audit-proofs.md), read within
//! the caller's tenant: the event as stored, its block's sealed leaves and
//! signed head. The format and its check are `deedlog_seal::proof`'s.

use crate::error::Error;
use chrono::{DateTime, Utc};
use deedlog_kernel::number::{fit, saturating_i64};
use deedlog_kernel::stream_type::CREDENTIALS;
use deedlog_seal::leaf::Fields;
use deedlog_seal::proof::{Proof, ProvenEvent};
use deedlog_seal::{Head, SignedHead};
use sqlx::PgConnection;
use uuid::Uuid;

/// What a proof can be had for.
#[derive(Debug)]
pub enum Proven {
    Proof(Box<Proof>),
    /// No event of the tenant's stands at the position.
    NoEvent,
    /// The event is not sealed yet.
    NotSealed,
    /// A user's credentials event: never shown (ADR 0023), so never proven here.
    Credentials,
}

type EventRow = (
    i64,
    Uuid,
    Uuid,
    String,
    i64,
    String,
    i32,
    String,
    String,
    Uuid,
    Uuid,
    Uuid,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

type HeadRow = (
    i64,
    i64,
    i64,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    DateTime<Utc>,
);

/// The proof of the tenant's event at `position`.
pub async fn proof(conn: &mut PgConnection, position: u64) -> Result<Proven, Error> {
    let context = "read an event's seal";
    let at = saturating_i64(position);
    let event: Option<EventRow> = sqlx::query_as(
        "SELECT position, tenant_id, stream_id, stream_type, version, event_type, schema_version, \
                payload::text, actor, command_id, correlation_id, causation_id, traceparent, \
                tracestate, occurred_at, recorded_at \
         FROM events WHERE position = $1",
    )
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    let Some(e) = event else {
        return Ok(Proven::NoEvent);
    };
    if e.3 == CREDENTIALS {
        return Ok(Proven::Credentials);
    }
    let head: Option<HeadRow> = sqlx::query_as(
        "SELECT block, first_position, last_position, root, previous, head, key_id, signature, sealed_at \
         FROM seal_blocks WHERE first_position <= $1 AND last_position >= $1",
    )
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    let Some(h) = head else {
        return Ok(Proven::NotSealed);
    };
    let leaves: Vec<u8> = sqlx::query_scalar("SELECT leaves FROM seal_blocks WHERE block = $1")
        .bind(h.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db(context))?;
    let hash = |bytes: &[u8]| <[u8; 32]>::try_from(bytes).map_err(|_| malformed(h.0));
    let signed = SignedHead {
        head: Head {
            block: fit("block", h.0)?,
            first_position: fit("position", h.1)?,
            last_position: fit("position", h.2)?,
            root: hash(&h.3)?,
            previous: hash(&h.4)?,
            sealed_at: h.8,
            key_id: h.6,
        },
        stored_hash: h.5,
        signature: h.7,
    };
    let leaves = leaves.chunks(32).map(hash).collect::<Result<Vec<_>, _>>()?;
    // A trace state is part of the trace only with a trace parent (as the
    // log's readers take it, and the sealer sealed it).
    let (traceparent, tracestate) = match e.12 {
        Some(parent) => (parent, e.13.unwrap_or_default()),
        None => (String::new(), String::new()),
    };
    let fields = Fields {
        position: fit("position", e.0)?,
        tenant_id: e.1,
        stream_id: e.2,
        stream_type: &e.3,
        version: fit("version", e.4)?,
        event_type: &e.5,
        schema_version: fit("schema version", e.6)?,
        payload: &e.7,
        actor: &e.8,
        command_id: e.9,
        correlation_id: e.10,
        causation_id: e.11,
        traceparent: &traceparent,
        tracestate: &tracestate,
        occurred_at_micros: e.14.timestamp_micros(),
        recorded_at_micros: e.15.timestamp_micros(),
    };
    Ok(
        Proof::new(ProvenEvent::from_fields(&fields), &signed, &leaves)
            .map_or(Proven::NotSealed, |p| Proven::Proof(Box::new(p))),
    )
}

fn malformed(block: i64) -> Error {
    Error::db("read an event's seal")(sqlx::Error::Protocol(format!(
        "block {block}'s seal holds a hash that is not 32 bytes"
    )))
}
