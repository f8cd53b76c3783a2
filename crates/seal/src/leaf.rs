//! What a leaf of the log's Merkle trees is: one position, either an event
//! exactly as stored, or absent (a position a rolled-back transaction took
//! and never filled). The encoding is documented in `docs/audit-proofs.md`
//! so that a few lines of another language can rebuild it.
//!
//! Every field is covered, the payload byte for byte as written (a `json`
//! column: ciphertext where personal fields are sealed, so destroying a key
//! breaks no seal). Integers are big-endian, ids their 16 bytes, text a
//! 4-byte big-endian length and its UTF-8 bytes, times microseconds since
//! the Unix epoch.

use crate::merkle::{self, Hash};
use uuid::Uuid;

const EVENT_TAG: &[u8] = b"deedlog.event.v1\0";
const ABSENT_TAG: &[u8] = b"deedlog.absent.v1\0";

/// The fields of an event that its leaf covers, borrowed from wherever
/// they come from (the log, or a proof document).
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub position: u64,
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub stream_type: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    /// The schema version as stored.
    pub schema_version: u32,
    /// The payload as stored.
    pub payload: &'a str,
    pub actor: &'a str,
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub traceparent: &'a str,
    pub tracestate: &'a str,
    pub occurred_at_micros: i64,
    pub recorded_at_micros: i64,
}

impl Fields<'_> {
    /// The bytes of the leaf.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.payload.len());
        out.extend_from_slice(EVENT_TAG);
        out.extend_from_slice(&self.position.to_be_bytes());
        out.extend_from_slice(self.tenant_id.as_bytes());
        out.extend_from_slice(self.stream_id.as_bytes());
        text(&mut out, self.stream_type);
        out.extend_from_slice(&self.version.to_be_bytes());
        text(&mut out, self.event_type);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        text(&mut out, self.payload);
        text(&mut out, self.actor);
        out.extend_from_slice(self.command_id.as_bytes());
        out.extend_from_slice(self.correlation_id.as_bytes());
        out.extend_from_slice(self.causation_id.as_bytes());
        text(&mut out, self.traceparent);
        text(&mut out, self.tracestate);
        out.extend_from_slice(&self.occurred_at_micros.to_be_bytes());
        out.extend_from_slice(&self.recorded_at_micros.to_be_bytes());
        out
    }

    /// The leaf hash.
    pub fn hash(&self) -> Hash {
        merkle::leaf(&self.bytes())
    }
}

fn text(out: &mut Vec<u8>, value: &str) {
    // Fields are far below 4 GiB (the log caps payloads at a megabyte).
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

/// The leaf hash of a position that holds no event.
pub fn absent(position: u64) -> Hash {
    let mut bytes = Vec::with_capacity(ABSENT_TAG.len() + 8);
    bytes.extend_from_slice(ABSENT_TAG);
    bytes.extend_from_slice(&position.to_be_bytes());
    merkle::leaf(&bytes)
}
