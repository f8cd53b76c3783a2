//! Consistency between two heads: heads are chained by hash, so the heads
//! from an older one to a newer one, each signed, show that the log the
//! older head sealed (an export, say) is a prefix of the log the newer one
//! seals. Nothing in between can be changed, dropped or reordered without
//! breaking a hash or a signature.

use crate::head::PublicKey;
use crate::proof::{hex, ProvenHead};
use serde::{Deserialize, Serialize};

/// The format name every consistency proof carries.
pub const FORMAT: &str = "deedlog.consistency-proof/1";

/// The heads from `older` to the newest, in block order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consistency {
    pub format: String,
    pub heads: Vec<ProvenHead>,
}

impl Consistency {
    pub fn new(heads: Vec<ProvenHead>) -> Self {
        Self {
            format: FORMAT.to_owned(),
            heads,
        }
    }
}

/// Checks that `proof` starts at `older` (the same head, by hash), that
/// each next head is the next block chained to the one before, and that
/// every head is signed by one of `keys`. Returns the newest head; the
/// error says which head failed.
pub fn check<'a>(
    proof: &'a Consistency,
    older: &ProvenHead,
    keys: &[PublicKey],
) -> Result<&'a ProvenHead, String> {
    if proof.format != FORMAT {
        return Err(format!("format is {:?}, not {FORMAT}", proof.format));
    }
    let first = proof.heads.first().ok_or("the proof holds no head")?;
    if first.hash != older.hash || first.block != older.block {
        return Err(format!(
            "the proof starts at block {} ({}), not at the older head's block {} ({})",
            first.block, first.hash, older.block, older.hash
        ));
    }
    let mut before: Option<(u64, u64, String)> = None;
    for proven in &proof.heads {
        let (head, signature) = proven.head()?;
        let hash = hex(&head.hash());
        if hash != proven.hash {
            return Err(format!(
                "block {}'s hash is not the hash of its head",
                head.block
            ));
        }
        if let Some((block, last, previous)) = &before {
            if head.block != block + 1
                || head.first_position != last + 1
                || hex(&head.previous) != *previous
            {
                return Err(format!(
                    "block {} does not follow block {block} in the chain",
                    head.block
                ));
            }
        }
        let key = keys.iter().find(|k| k.id() == head.key_id).ok_or_else(|| {
            format!(
                "block {} is signed with key {}, which is not given",
                head.block, head.key_id
            )
        })?;
        if !key.verifies(&head, &signature) {
            return Err(format!("block {}'s signature does not verify", head.block));
        }
        before = Some((head.block, head.last_position, hash));
    }
    Ok(proof.heads.last().unwrap_or(first))
}
