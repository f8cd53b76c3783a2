//! The sealer: reads the log after the last sealed position, in order and
//! as stored, and seals what it read as the next block. The reader is the
//! gap-safe one, so a hole is sealed as absent only once no transaction
//! can still fill it; an event inserted into it later no longer matches.
//! Appends are untouched: sealing runs behind them, on its own connection.

use crate::error::Error;
use crate::store::{self, Leaf};
use crate::Error as SealError;
use chrono::{DateTime, Utc};
use deedlog_eventstore::{LogReader, RecordedEvent};
use deedlog_kernel::number::saturating_i64;
use deedlog_seal::head::{Head, SealingKey, GENESIS};
use deedlog_seal::merkle;
use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the sealer runs (settings `sealing`).
#[derive(Debug, Clone, Copy)]
pub struct SealerOptions {
    /// Most positions in one block.
    pub block_size: u32,
    /// How long to wait before looking again once caught up.
    pub poll_interval: Duration,
}

impl Default for SealerOptions {
    fn default() -> Self {
        Self {
            block_size: 4096,
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// What the sealer has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct SealStats {
    /// The last position sealed.
    pub sealed_position: AtomicU64,
    /// The log's head when last looked at.
    pub head_position: AtomicU64,
    /// How long the oldest unsealed event has waited, in milliseconds.
    pub lag_ms: AtomicU64,
    /// Blocks sealed by this process.
    pub blocks: AtomicU64,
}

impl SealStats {
    /// Prometheus text for `/metrics`.
    pub fn render(&self) -> String {
        let sealed = self.sealed_position.load(Ordering::Relaxed);
        let head = self.head_position.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, kind, help, value) in [
            (
                "deedlog_seal_lag_positions",
                "gauge",
                "Log positions not sealed yet.",
                head.saturating_sub(sealed) as f64,
            ),
            (
                "deedlog_seal_lag_seconds",
                "gauge",
                "How long the oldest unsealed event has waited.",
                self.lag_ms.load(Ordering::Relaxed) as f64 / 1e3,
            ),
            (
                "deedlog_sealed_position",
                "gauge",
                "The last log position sealed.",
                sealed as f64,
            ),
            (
                "deedlog_seal_blocks_total",
                "counter",
                "Blocks sealed since the sealer started.",
                self.blocks.load(Ordering::Relaxed) as f64,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}

/// Seals the log with one key.
#[derive(Debug, Clone)]
pub struct Sealer {
    reader: LogReader,
    key: SealingKey,
    options: SealerOptions,
    stats: Arc<SealStats>,
}

impl Sealer {
    /// Reads with `reader` as stored ([`LogReader::raw`]).
    pub fn new(reader: LogReader, key: SealingKey, options: SealerOptions) -> Self {
        Self {
            reader: reader.raw(),
            key,
            options,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<SealStats> {
        self.stats.clone()
    }

    fn pool(&self) -> &PgPool {
        self.reader.pool()
    }

    /// Seals everything there is to seal now, block after block, reading
    /// the next block while the last one is written; returns how many
    /// blocks it sealed.
    pub async fn catch_up(&self) -> Result<u64, SealError> {
        let mut after = self.next().await?;
        let mut events = self
            .reader
            .read_all(after.1, self.options.block_size)
            .await?;
        let mut sealed = 0;
        loop {
            let Some(leaves) = block_leaves(after.1, &events, self.options.block_size as usize)
            else {
                self.seal(after, &events).await?;
                return Ok(sealed);
            };
            let last = leaves.last().map_or(after.1, |l| l.position);
            let reader = self.reader.clone();
            let block_size = self.options.block_size;
            let next = tokio::spawn(async move { reader.read_all(last, block_size).await });
            let head = self.seal(after, &events).await?;
            let next = next
                .await
                .map_err(|e| SealError::Malformed(format!("the sealer's reader failed: {e}")))??;
            let Some(head) = head else {
                return Ok(sealed); // another sealer got there first
            };
            sealed += 1;
            after = (head.block + 1, head.last_position, head.hash());
            events = next;
        }
    }

    /// The next block's number, the position it starts after and the hash
    /// of the head before it.
    async fn next(&self) -> Result<(u64, u64, merkle::Hash), SealError> {
        Ok(match store::last_head(self.pool()).await? {
            Some(signed) => (
                signed.head.block + 1,
                signed.head.last_position,
                signed.head.hash(),
            ),
            None => (1, 0, GENESIS),
        })
    }

    /// Seals `events` (read after `after.1`) as block `after.0`.
    async fn seal(
        &self,
        (block, after, previous): (u64, u64, merkle::Hash),
        events: &[RecordedEvent],
    ) -> Result<Option<Head>, SealError> {
        let Some(leaves) = block_leaves(after, events, self.options.block_size as usize) else {
            self.stats.sealed_position.store(after, Ordering::Relaxed);
            self.stats.lag_ms.store(0, Ordering::Relaxed);
            return Ok(None);
        };
        let hashes: Vec<merkle::Hash> = leaves.iter().map(|l| l.hash).collect();
        let now = Utc::now();
        let head = Head {
            block,
            first_position: after + 1,
            last_position: leaves.last().map_or(after, |l| l.position),
            root: merkle::root(&hashes),
            previous,
            // Microseconds, as PostgreSQL keeps them (and the hash covers).
            sealed_at: DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now),
            key_id: self.key.id().to_owned(),
        };
        let signature = self.key.sign(&head);
        if !store::insert(self.pool(), &head, &signature, &leaves).await? {
            // Another sealer stored this block first; read its head next time.
            return Ok(None);
        }
        self.stats
            .sealed_position
            .store(head.last_position, Ordering::Relaxed);
        self.stats.blocks.fetch_add(1, Ordering::Relaxed);
        Ok(Some(head))
    }

    /// Measures how far sealing trails the log (for `/metrics`).
    pub async fn measure_lag(&self) -> Result<(), SealError> {
        let sealed = self.stats.sealed_position.load(Ordering::Relaxed);
        let (head, oldest): (Option<i64>, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT (SELECT max(position) FROM events), \
                    (SELECT recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT 1)",
        )
        .bind(saturating_i64(sealed))
        .fetch_one(self.pool())
        .await
        .map_err(Error::db("measure the seal lag"))?;
        let head = head.map_or(0, |h| u64::try_from(h).unwrap_or(0));
        self.stats.head_position.store(head, Ordering::Relaxed);
        let lag = oldest.map_or(0, |at| {
            u64::try_from((Utc::now() - at).num_milliseconds().max(0)).unwrap_or(0)
        });
        self.stats.lag_ms.store(lag, Ordering::Relaxed);
        Ok(())
    }

    /// Seals until `stop` resolves: a block at a time while there is a
    /// backlog, then every poll interval. Only one sealer of a database
    /// works at a time (an advisory lock held on its own connection);
    /// another waits as a standby.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) -> Result<(), SealError> {
        tokio::pin!(stop);
        // Its own connection, closed (and the lock released) when this returns.
        let mut lock = self
            .pool()
            .acquire()
            .await
            .map_err(Error::db("take the sealer's lock"))?
            .detach();
        loop {
            let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(SEALER_LOCK)
                .fetch_one(&mut lock)
                .await
                .map_err(Error::db("take the sealer's lock"))?;
            if held {
                break;
            }
            tokio::select! {
                () = &mut stop => return Ok(()),
                () = tokio::time::sleep(self.options.poll_interval * 5) => {}
            }
        }
        tracing::info!(key_id = self.key.id(), "sealing the log");
        loop {
            let sealed = match self.catch_up().await {
                Ok(blocks) => blocks > 0,
                Err(error) => {
                    tracing::warn!(%error, "sealing failed; trying again");
                    false
                }
            };
            if let Err(error) = self.measure_lag().await {
                tracing::warn!(%error, "measuring the seal lag failed");
            }
            if sealed {
                continue;
            }
            tokio::select! {
                () = &mut stop => return Ok(()),
                () = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }
}

/// The advisory lock only one sealer holds (`hashtext('deedlog.sealer')`
/// is not stable across versions, so a constant).
const SEALER_LOCK: i64 = 0x6465_6564_6c6f_6701;

/// The leaves of the block after `after` from `events` (in order, read
/// after `after`): every position up to the last event taken, those
/// without an event absent, at most `max` (a hole longer than a block
/// becomes a block of absent positions). `None` when there is nothing.
pub(crate) fn block_leaves(after: u64, events: &[RecordedEvent], max: usize) -> Option<Vec<Leaf>> {
    let first = events.first()?;
    let max = max.max(1);
    let mut leaves = Vec::with_capacity(events.len().min(max));
    let mut next = after + 1;
    if first.position - after > max as u64 {
        // Nothing but a hole fits: seal `max` absent positions.
        leaves.extend((next..next + max as u64).map(absent));
        return Some(leaves);
    }
    for event in events {
        let width = (event.position - next + 1) as usize;
        if leaves.len() + width > max {
            break;
        }
        leaves.extend((next..event.position).map(absent));
        leaves.push(Leaf {
            position: event.position,
            tenant: Some(event.tenant_id.as_uuid()),
            hash: crate::leaf(event),
        });
        next = event.position + 1;
    }
    Some(leaves)
}

fn absent(position: u64) -> Leaf {
    Leaf {
        position,
        tenant: None,
        hash: deedlog_seal::leaf::absent(position),
    }
}
