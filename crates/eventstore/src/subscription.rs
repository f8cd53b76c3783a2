//! Reading the whole log in position order: one-shot reads and a
//! subscription that delivers batches as they commit.

use crate::copy::{copy_events, opened_of, EVENT_COLUMNS};
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::gap::{GapTracker, Snapshot};
use crate::notify::CHANNEL;
use crate::store::LogReader;
use deedlog_kernel::number::{fit, saturating_i64};
use sqlx::postgres::PgListener;
use sqlx::Row;
use std::time::Duration;

/// How often a subscription looks again while a gap is being waited out;
/// rolled-back transactions send no notification.
const GAP_RECHECK: Duration = Duration::from_millis(10);

/// How a subscription reads.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionOptions {
    /// Most events in one batch.
    pub batch_size: u32,
    /// Longest wait for a notification before looking anyway.
    pub poll_interval: Duration,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
        }
    }
}

impl LogReader {
    /// Reads up to `limit` events after `position`, in order. A gap that an
    /// in-flight transaction may still fill is waited out (for as long as
    /// transactions older than the read run), never skipped; events before
    /// it are returned at once.
    pub async fn read_all(&self, position: u64, limit: u32) -> Result<Vec<RecordedEvent>, Error> {
        self.read_waiting(GapTracker::new(position), limit).await
    }

    /// Like [`Self::read_all`], for a caller that knows every position up to
    /// `settled` is resolved (a subscription delivered it, or a checkpoint
    /// reached it): gaps up to there are crossed without waiting. A caller
    /// inside a write transaction must read only below such a position:
    /// waiting out a gap would wait for its own transaction.
    pub async fn read_settled(
        &self,
        position: u64,
        settled: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.read_waiting(GapTracker::settled_through(position, settled), limit)
            .await
    }

    /// How many events the log holds after `from`, up to `to` inclusive.
    pub async fn count_between(&self, from: u64, to: u64) -> Result<u64, Error> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE position > $1 AND position <= $2",
        )
        // Bounds: no stored position passes i64::MAX, so clamping counts the same rows.
        .bind(saturating_i64(from))
        .bind(saturating_i64(to))
        .fetch_one(&self.reader_pool)
        .await
        .map_err(Error::db("count events of the log"))?;
        Ok(fit("count of events", count)?)
    }

    /// Subscribes to every event after `position` (0: from the beginning).
    pub fn subscribe(&self, position: u64, options: SubscriptionOptions) -> Subscription {
        Subscription {
            reader: self.clone(),
            tracker: GapTracker::new(position),
            options,
            listener: None,
        }
    }

    async fn read_waiting(
        &self,
        mut tracker: GapTracker,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let mut events = Vec::new();
        let mut rechecks = 0;
        loop {
            let was_waiting = tracker.is_waiting();
            let want = limit.saturating_sub(events.len() as u32);
            events.extend(self.read_safe(&mut tracker, want).await?);
            if events.len() >= limit as usize {
                return Ok(events);
            }
            if !tracker.is_waiting() {
                if !was_waiting {
                    return Ok(events); // the head of the log
                }
                rechecks = 0; // a gap just settled: read on past it
                continue;
            }
            // A gap is open. Look again at once: its bound was just taken
            // and usually nothing older still runs (a rolled-back append).
            // After that, hand over what is read rather than hold it back
            // behind a slow writer, or wait if there is nothing yet.
            if rechecks > 0 {
                if !events.is_empty() {
                    return Ok(events);
                }
                tokio::time::sleep(GAP_RECHECK).await;
            }
            rechecks += 1;
        }
    }

    /// One read under one snapshot, admitted through `tracker`; `tracker`
    /// moves only once the read has committed, so a failed read delivers
    /// nothing and loses nothing.
    async fn read_safe(
        &self,
        tracker: &mut GapTracker,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let context = "read the log";
        // One repeatable-read transaction: the rows and the snapshot agree.
        let mut tx = self
            .reader_pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(Error::db(context))?;
        // While a gap is open, read only up to it: polling every few
        // milliseconds must not re-read a whole batch behind a slow writer.
        let horizon = tracker.read_horizon().unwrap_or(i64::MAX as u64);
        // Integers only: safe to inline into the COPY statement.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > {} AND position <= {horizon} \
             ORDER BY position LIMIT {limit}",
            tracker.position()
        );
        let mut events = copy_events(&mut tx, &sql, &self.upcasters, context).await?;
        let snapshot: String = sqlx::query("SELECT pg_current_snapshot()::text")
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(Error::db(context))?;
        let snapshot: Snapshot =
            snapshot
                .parse()
                .map_err(|e: crate::gap::SnapshotParseError| Error::Corrupt {
                    position: 0,
                    reason: e.to_string(),
                })?;
        let mut next = tracker.clone();
        let positions: Vec<u64> = events.iter().map(|e| e.position).collect();
        let admitted = next.admit(&positions, &snapshot);
        if next.needs_bound() {
            // Only when a gap opens: an id above every transaction that can
            // fill it (see gap.rs). Its commit record need not be flushed.
            let xid: String = sqlx::query(
                "SELECT pg_current_xact_id()::text, set_config('synchronous_commit', 'off', true)",
            )
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(Error::db(context))?;
            let xid = xid.parse().map_err(|_| Error::Corrupt {
                position: 0,
                reason: format!("malformed transaction id {xid:?}"),
            })?;
            next.bound(xid);
        }
        tx.commit().await.map_err(Error::db(context))?;
        events.truncate(admitted);
        // Opened after the commit (see `copy::opened`); a failure here
        // delivers nothing and leaves the tracker where it was.
        let events = opened_of(self.keyring.as_ref(), self.opens, events).await?;
        *tracker = next;
        Ok(events)
    }
}

/// A position-ordered, gap-safe feed of every event in the log.
///
/// Delivers each committed event once, in position order, never one that was
/// rolled back. Woken by LISTEN/NOTIFY, with polling as the fallback. After a
/// database outage the next call resumes from the last delivered position.
#[derive(Debug)]
pub struct Subscription {
    reader: LogReader,
    tracker: GapTracker,
    options: SubscriptionOptions,
    listener: Option<PgListener>,
}

impl Subscription {
    /// The last position delivered.
    pub fn position(&self) -> u64 {
        self.tracker.position()
    }

    /// Reads once: the events that are safe to deliver now, possibly none.
    pub async fn poll(&mut self) -> Result<Vec<RecordedEvent>, Error> {
        self.reader
            .read_safe(&mut self.tracker, self.options.batch_size)
            .await
    }

    /// Waits for and returns the next non-empty batch.
    ///
    /// Cancel-safe: dropping the future delivers nothing and loses nothing.
    pub async fn next_batch(&mut self) -> Result<Vec<RecordedEvent>, Error> {
        loop {
            self.ensure_listening().await;
            let batch = self.poll().await?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            self.wait_for_news().await;
        }
    }

    async fn ensure_listening(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let listener = async {
            let mut listener = PgListener::connect_with(&self.reader.reader_pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(listener) => self.listener = Some(listener),
            Err(error) => tracing::debug!(%error, "listen for appended events; polling instead"),
        }
    }

    /// Sleeps until a notification, or the poll interval, whichever is first.
    async fn wait_for_news(&mut self) {
        let timeout = if self.tracker.is_waiting() {
            GAP_RECHECK
        } else {
            self.options.poll_interval
        };
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(timeout).await;
            return;
        };
        let started = tokio::time::Instant::now();
        match tokio::time::timeout(timeout, listener.try_recv()).await {
            Ok(Ok(Some(_))) | Err(_) => {}
            // The connection dropped: listen again next time, poll meanwhile.
            Ok(Ok(None)) | Ok(Err(_)) => {
                self.listener = None;
                tokio::time::sleep_until(started + timeout).await;
            }
        }
    }
}
