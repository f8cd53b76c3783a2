//! An inclusion proof: one event as stored, its audit path in its block's
//! Merkle tree, and the block's signed head. Anyone with the sealing key's
//! public half can check it offline (`deedlog audit verify-proof`, or the
//! few lines of Python in `docs/audit-proofs.md`).

use crate::head::{Head, PublicKey, SignedHead};
use crate::leaf::Fields;
use crate::merkle::{self, Hash};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The format name every proof carries.
pub const FORMAT: &str = "deedlog.audit-proof/1";

/// A proof document (`docs/audit-proofs.md` names every key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub format: String,
    pub event: ProvenEvent,
    /// The event's index among its block's leaves (from 0).
    pub leaf_index: u64,
    /// How many leaves the block has.
    pub tree_size: u64,
    /// The audit path, bottom up, in hex.
    pub path: Vec<String>,
    pub head: ProvenHead,
}

/// The event as stored, every field the leaf covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEvent {
    pub position: u64,
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub stream_type: String,
    pub version: u64,
    pub event_type: String,
    pub schema_version: u32,
    /// The payload exactly as stored (sealed personal fields stay sealed).
    pub payload: String,
    pub actor: String,
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub traceparent: String,
    pub tracestate: String,
    pub occurred_at_micros: i64,
    pub recorded_at_micros: i64,
}

/// A signed head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenHead {
    pub block: u64,
    pub first_position: u64,
    pub last_position: u64,
    /// Hex.
    pub root: String,
    /// Hex.
    pub previous: String,
    pub sealed_at_micros: i64,
    pub key_id: String,
    /// The head's hash in hex (what was signed).
    pub hash: String,
    /// Ed25519, base64.
    pub signature: String,
}

impl ProvenEvent {
    /// The fields its leaf covers.
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            position: self.position,
            tenant_id: self.tenant_id,
            stream_id: self.stream_id,
            stream_type: &self.stream_type,
            version: self.version,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            payload: &self.payload,
            actor: &self.actor,
            command_id: self.command_id,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            traceparent: &self.traceparent,
            tracestate: &self.tracestate,
            occurred_at_micros: self.occurred_at_micros,
            recorded_at_micros: self.recorded_at_micros,
        }
    }
}

impl ProvenEvent {
    /// The document's form of an event's leaf fields.
    pub fn from_fields(f: &Fields<'_>) -> Self {
        ProvenEvent {
            position: f.position,
            tenant_id: f.tenant_id,
            stream_id: f.stream_id,
            stream_type: f.stream_type.to_owned(),
            version: f.version,
            event_type: f.event_type.to_owned(),
            schema_version: f.schema_version,
            payload: f.payload.to_owned(),
            actor: f.actor.to_owned(),
            command_id: f.command_id,
            correlation_id: f.correlation_id,
            causation_id: f.causation_id,
            traceparent: f.traceparent.to_owned(),
            tracestate: f.tracestate.to_owned(),
            occurred_at_micros: f.occurred_at_micros,
            recorded_at_micros: f.recorded_at_micros,
        }
    }
}

impl From<&SignedHead> for ProvenHead {
    fn from(signed: &SignedHead) -> Self {
        let h = &signed.head;
        ProvenHead {
            block: h.block,
            first_position: h.first_position,
            last_position: h.last_position,
            root: hex(&h.root),
            previous: hex(&h.previous),
            sealed_at_micros: h.sealed_at.timestamp_micros(),
            key_id: h.key_id.clone(),
            hash: hex(&h.hash()),
            signature: STANDARD.encode(&signed.signature),
        }
    }
}

impl ProvenHead {
    /// The head it describes, and its signature; the error says what is malformed.
    pub fn head(&self) -> Result<(Head, Vec<u8>), String> {
        let head = Head {
            block: self.block,
            first_position: self.first_position,
            last_position: self.last_position,
            root: unhex(&self.root, "head.root")?,
            previous: unhex(&self.previous, "head.previous")?,
            sealed_at: DateTime::from_timestamp_micros(self.sealed_at_micros)
                .ok_or("head.sealed_at_micros is out of range")?,
            key_id: self.key_id.clone(),
        };
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|_| "head.signature is not base64".to_owned())?;
        Ok((head, signature))
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str, what: &str) -> Result<Hash, String> {
    let bad = || format!("{what} is not 64 lower-case hex digits");
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

impl Proof {
    /// The proof of `event` in the block `signed` seals, whose leaves (in
    /// position order) are `leaves`; `None` when the block does not cover
    /// the event's position.
    pub fn new(event: ProvenEvent, signed: &SignedHead, leaves: &[Hash]) -> Option<Self> {
        let head = &signed.head;
        if event.position < head.first_position || event.position > head.last_position {
            return None;
        }
        let index = event.position - head.first_position;
        let path = merkle::inclusion_proof(leaves, usize::try_from(index).ok()?);
        Some(Proof {
            format: FORMAT.to_owned(),
            event,
            leaf_index: index,
            tree_size: head.last_position - head.first_position + 1,
            path: path.iter().map(|h| hex(h)).collect(),
            head: ProvenHead::from(signed),
        })
    }
}

/// Checks `proof` with `key`: the event's leaf is in the block's tree, the
/// tree's root is the head's, and the head is signed with `key`. The error
/// says which step failed.
pub fn check(proof: &Proof, key: &PublicKey) -> Result<(), String> {
    if proof.format != FORMAT {
        return Err(format!("format is {:?}, not {FORMAT}", proof.format));
    }
    let (head, signature) = proof.head.head()?;
    let event = &proof.event;
    if event.position < head.first_position || event.position > head.last_position {
        return Err(format!(
            "position {} is not in block {} ({}..={})",
            event.position, head.block, head.first_position, head.last_position
        ));
    }
    // Checked: a proof is untrusted input.
    let size = (head.last_position - head.first_position).checked_add(1);
    if proof.leaf_index != event.position - head.first_position || Some(proof.tree_size) != size {
        return Err("leaf_index or tree_size does not match the head's positions".to_owned());
    }
    let path = proof
        .path
        .iter()
        .map(|h| unhex(h, "path"))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = event.fields().hash();
    if !merkle::verify_inclusion(&leaf, proof.leaf_index, proof.tree_size, &path, &head.root) {
        return Err(format!(
            "the event at position {} is not the one sealed in block {}",
            event.position, head.block
        ));
    }
    if hex(&head.hash()) != proof.head.hash {
        return Err("head.hash is not the hash of the head".to_owned());
    }
    if head.key_id != key.id() {
        return Err(format!(
            "the head is signed with key {}, not with the given key {}",
            head.key_id,
            key.id()
        ));
    }
    if !key.verifies(&head, &signature) {
        return Err("the head's signature does not verify with the given key".to_owned());
    }
    Ok(())
}
