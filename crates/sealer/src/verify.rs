//! Verification: recompute every leaf, root and head hash from the log as
//! stored, check the chain and every signature against trusted public
//! keys, and name the first position where anything differs.

use crate::error::Error;
use crate::store::{self, Leaf};
use deedlog_eventstore::{LogReader, RecordedEvent};
use deedlog_seal::head::{PublicKey, SignedHead, GENESIS};
use deedlog_seal::merkle;
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// What is wrong at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The event there differs from the one sealed.
    Edited,
    /// A sealed event is gone.
    Deleted,
    /// An event stands where an absent position was sealed.
    Inserted,
    /// The event there was sealed at another position of its block.
    Reordered,
    /// A head or the stored leaves do not hold together (chain, hash, root).
    BrokenSeal,
    /// A head is signed with no trusted key, or its signature fails.
    Unsigned,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Edited => "edited",
            Kind::Deleted => "deleted",
            Kind::Inserted => "inserted",
            Kind::Reordered => "reordered",
            Kind::BrokenSeal => "broken seal",
            Kind::Unsigned => "unsigned seal",
        })
    }
}

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub position: u64,
    pub kind: Kind,
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "position {}: {}: {}",
            self.position, self.kind, self.detail
        )
    }
}

/// Which part of the log to verify.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// Only this tenant's events (the other positions by their sealed leaves).
    pub tenant: Option<Uuid>,
}

/// What verification covered, and the first problem if any.
#[derive(Debug, Clone)]
pub struct Report {
    /// The positions checked, inclusive (`None`: nothing sealed in scope).
    pub checked: Option<(u64, u64)>,
    pub events: u64,
    pub blocks: u64,
    /// The last head, whose chain was checked from the first block.
    pub head: Option<SignedHead>,
    /// Events past the last seal (not yet sealed, not a problem).
    pub unsealed: u64,
    pub problem: Option<Problem>,
}

impl Report {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies `scope` of the log that `reader` reads (as stored) against
/// `keys`, calling `progress(position, through)` after each block.
pub async fn verify(
    reader: &LogReader,
    keys: &[PublicKey],
    scope: Scope,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Report, Error> {
    let reader = reader.raw();
    let pool = reader.pool();
    let heads = store::heads(pool).await?;
    let mut report = Report {
        checked: None,
        events: 0,
        blocks: 0,
        head: heads.last().cloned(),
        unsealed: 0,
        problem: None,
    };
    if let Some(problem) = check_chain(&heads, keys) {
        report.problem = Some(problem);
        return Ok(report);
    }
    let sealed_through = heads.last().map_or(0, |h| h.head.last_position);
    report.unsealed = reader.count_between(sealed_through, u64::MAX).await?;
    let from = scope.from.unwrap_or(1).max(1);
    let to = scope.to.unwrap_or(u64::MAX).min(sealed_through);
    if from > to {
        return Ok(report);
    }
    report.checked = Some((from, to));
    let blocks: Vec<&SignedHead> = heads
        .iter()
        .filter(|h| h.head.last_position >= from && h.head.first_position <= to)
        .collect();
    // Each block's sealed leaves and events are read while the block
    // before is being hashed.
    let fetch = |signed: &SignedHead| {
        let (reader, block) = (reader.clone(), signed.head.block);
        let (first, last) = (signed.head.first_position, signed.head.last_position);
        tokio::spawn(async move {
            let (stored, events) = tokio::join!(
                store::leaves(reader.pool(), block),
                read_block(&reader, first, last)
            );
            Ok::<_, Error>((stored?, events?))
        })
    };
    let mut next = blocks.first().map(|signed| fetch(signed));
    for (i, signed) in blocks.iter().enumerate() {
        let last = signed.head.last_position;
        let Some(this) = next.take() else { break };
        next = blocks.get(i + 1).map(|signed| fetch(signed));
        let (stored, events) = this
            .await
            .map_err(|e| Error::Malformed(format!("verification's reader failed: {e}")))??;
        if let Some(problem) = check_leaves(signed, &stored) {
            report.problem = Some(problem);
            return Ok(report);
        }
        let wanted = |position: u64| position >= from && position <= to;
        let mine = |tenant: Option<Uuid>| scope.tenant.is_none() || tenant == scope.tenant;
        report.events += events
            .iter()
            .filter(|e| wanted(e.position) && mine(Some(e.tenant_id.as_uuid())))
            .count() as u64;
        if let Some(problem) = compare(&stored, &events, wanted, mine) {
            report.problem = Some(problem);
            return Ok(report);
        }
        report.blocks += 1;
        progress(last.min(to), to);
    }
    Ok(report)
}

/// Checks the heads: consecutive blocks and positions, each chained to the
/// previous head's hash, its stored hash right, signed by a trusted key.
fn check_chain(heads: &[SignedHead], keys: &[PublicKey]) -> Option<Problem> {
    let mut previous = GENESIS;
    let mut next_block = 1;
    let mut next_position = 1;
    for signed in heads {
        let head = &signed.head;
        let broken = |detail: String| {
            Some(Problem {
                position: head.first_position,
                kind: Kind::BrokenSeal,
                detail,
            })
        };
        if head.block != next_block || head.first_position != next_position {
            return broken(format!(
                "block {} covers positions {}..={}, but block {next_block} from position {next_position} comes next",
                head.block, head.first_position, head.last_position
            ));
        }
        if head.previous != previous {
            return broken(format!(
                "block {} is not chained to the head before it",
                head.block
            ));
        }
        let hash = head.hash();
        if signed.stored_hash != hash {
            return broken(format!(
                "block {}'s stored head hash is not the hash of its head",
                head.block
            ));
        }
        let Some(key) = keys.iter().find(|k| k.id() == head.key_id) else {
            return Some(Problem {
                position: head.first_position,
                kind: Kind::Unsigned,
                detail: format!(
                    "block {} is signed with key {}, which is not among the trusted keys",
                    head.block, head.key_id
                ),
            });
        };
        if !key.verifies(head, &signed.signature) {
            return Some(Problem {
                position: head.first_position,
                kind: Kind::Unsigned,
                detail: format!(
                    "block {}'s signature does not verify with key {}",
                    head.block, head.key_id
                ),
            });
        }
        previous = hash;
        next_block = head.block + 1;
        next_position = head.last_position + 1;
    }
    None
}

/// Checks that a block's stored leaves cover its positions and give its
/// signed root (so they can be trusted to name a changed position).
fn check_leaves(signed: &SignedHead, stored: &[Leaf]) -> Option<Problem> {
    let head = &signed.head;
    for (i, leaf) in stored.iter().enumerate() {
        let expected = head.first_position + i as u64;
        if leaf.position != expected {
            return Some(Problem {
                position: expected,
                kind: Kind::BrokenSeal,
                detail: format!("block {} has no sealed leaf for this position", head.block),
            });
        }
    }
    let count = head.last_position - head.first_position + 1;
    if stored.len() as u64 != count {
        return Some(Problem {
            position: head.first_position + stored.len() as u64,
            kind: Kind::BrokenSeal,
            detail: format!("block {} has no sealed leaf for this position", head.block),
        });
    }
    let hashes: Vec<merkle::Hash> = stored.iter().map(|l| l.hash).collect();
    if merkle::root(&hashes) != head.root {
        return Some(Problem {
            position: head.first_position,
            kind: Kind::BrokenSeal,
            detail: format!(
                "block {}'s sealed leaves do not give its signed root",
                head.block
            ),
        });
    }
    None
}

/// Every event of positions `first..=last` (all resolved: they were sealed).
async fn read_block(
    reader: &LogReader,
    first: u64,
    last: u64,
) -> Result<Vec<RecordedEvent>, Error> {
    let mut events = Vec::new();
    let mut at = first - 1;
    loop {
        let batch = reader.read_settled(at, last, 4096).await?;
        let Some(end) = batch.last().map(|e| e.position) else {
            break;
        };
        events.extend(batch.into_iter().filter(|e| e.position <= last));
        if end >= last {
            break;
        }
        at = end;
    }
    Ok(events)
}

/// The first position where the log differs from the sealed leaves.
fn compare(
    stored: &[Leaf],
    events: &[RecordedEvent],
    wanted: impl Fn(u64) -> bool,
    mine: impl Fn(Option<Uuid>) -> bool,
) -> Option<Problem> {
    let by_position: HashMap<u64, &RecordedEvent> =
        events.iter().map(|e| (e.position, e)).collect();
    for leaf in stored.iter().filter(|l| wanted(l.position)) {
        let event = by_position.get(&leaf.position);
        let tenant = event.map(|e| e.tenant_id.as_uuid());
        if !mine(leaf.tenant) && !mine(tenant) {
            continue;
        }
        let problem = |kind, detail: &str| {
            Some(Problem {
                position: leaf.position,
                kind,
                detail: detail.to_owned(),
            })
        };
        match (event, leaf.tenant) {
            // A leaf without a tenant must be the absent position's hash:
            // clearing a deleted event's tenant in the leaf table is no cover.
            (None, None) if leaf.hash == deedlog_seal::leaf::absent(leaf.position) => {}
            (None, None) => {
                return problem(
                    Kind::Deleted,
                    "the sealed event is missing from the log (its leaf's tenant was cleared)",
                );
            }
            (None, Some(_)) => {
                return problem(Kind::Deleted, "the sealed event is missing from the log");
            }
            (Some(_), None) => {
                return problem(
                    Kind::Inserted,
                    "an event stands where the seal says no event was",
                );
            }
            (Some(event), Some(_)) => {
                let hash = crate::leaf(event);
                if hash == leaf.hash {
                    continue;
                }
                return match sealed_elsewhere(event, stored) {
                    Some(other) => problem(
                        Kind::Reordered,
                        &format!("the event here was sealed at position {other}"),
                    ),
                    None => problem(
                        Kind::Edited,
                        "the event differs from the one sealed (a field or its payload was changed)",
                    ),
                };
            }
        }
    }
    None
}

/// The position of the block where `event` was sealed, when that is not
/// where it stands now (its position is part of its leaf, so each sealed
/// position is tried).
fn sealed_elsewhere(event: &RecordedEvent, stored: &[Leaf]) -> Option<u64> {
    let mut moved = event.clone();
    stored
        .iter()
        .filter(|l| l.tenant.is_some() && l.position != event.position)
        .find(|l| {
            moved.position = l.position;
            crate::leaf(&moved) == l.hash
        })
        .map(|l| l.position)
}
