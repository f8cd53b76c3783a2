//! Works one projection in one schema: reads batches from the log, applies
//! each with its checkpoint in one transaction, isolates an event that
//! cannot be applied into the dead letters.

mod commit;

pub use commit::{apply_in, prepare_batch};

use crate::checkpoint;
use crate::error::Error;
use crate::projection::Projection;
use crate::stats::Stats;
use deedlog_eventstore::{LogReader, RecordedEvent, Subscription, SubscriptionOptions};
use sqlx::PgPool;
use std::sync::Arc;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A batch was committed; the checkpoint is now at `position`.
    Progressed { position: u64, events: usize },
    /// Nothing to apply now (or the `until` position is reached).
    CaughtUp,
}

/// One projection worked in one schema.
#[derive(Debug)]
pub struct Projector {
    projection: Arc<dyn Projection>,
    pool: PgPool,
    reader: LogReader,
    schema: String,
    options: SubscriptionOptions,
    subscription: Subscription,
    /// The checkpoint as this worker last saw it.
    expected: u64,
    /// Read from the log, not yet applied (kept across a failed attempt).
    pending: Vec<RecordedEvent>,
    /// Apply nothing past this position (reconciliation compares at one).
    until: Option<u64>,
    /// The lease epoch this worker claimed ([`Self::fence`]); None for a
    /// worker without a lease (rebuilds, tests driving it by hand).
    epoch: Option<i64>,
    stats: Arc<Stats>,
}

impl Projector {
    /// Opens `projection` in `schema` (which must exist) at its checkpoint.
    pub async fn open(
        projection: Arc<dyn Projection>,
        pool: PgPool,
        reader: LogReader,
        schema: String,
        options: SubscriptionOptions,
    ) -> Result<Self, Error> {
        let mut conn = pool
            .acquire()
            .await
            .map_err(Error::db("open a projection"))?;
        let at = checkpoint::read(&mut conn, &schema).await?.position;
        drop(conn);
        let subscription = reader.subscribe(at, options);
        let stats = Arc::new(Stats::default());
        stats
            .position
            .store(at, std::sync::atomic::Ordering::Relaxed);
        Ok(Self {
            projection,
            pool,
            reader,
            schema,
            options,
            subscription,
            expected: at,
            pending: Vec::new(),
            until: None,
            epoch: None,
            stats,
        })
    }

    /// Claims the schema for this worker, which has just taken the
    /// projection's lease: a previous holder's batches fail from now on,
    /// and this worker resumes from the checkpoint as it stands after them.
    pub async fn fence(&mut self) -> Result<(), Error> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("fence a projection"))?;
        let (epoch, position) = checkpoint::fence(&mut conn, &self.schema).await?;
        self.epoch = Some(epoch);
        if position != self.expected {
            self.resume_from(position);
        }
        Ok(())
    }

    /// Reports into `stats` (shared with a runner) instead of its own.
    pub fn with_stats(mut self, stats: Arc<Stats>) -> Self {
        stats
            .position
            .store(self.expected, std::sync::atomic::Ordering::Relaxed);
        self.stats = stats;
        self
    }

    /// Applies nothing past `position`.
    pub fn until(mut self, position: u64) -> Self {
        self.until = Some(position);
        self
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// The checkpoint as last committed or read.
    pub fn position(&self) -> u64 {
        self.expected
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Applies the next batch if there is one, without waiting.
    pub async fn project_batch(&mut self) -> Result<Step, Error> {
        loop {
            if self.pending.is_empty() && !self.reached_until() {
                self.pending = self.subscription.poll().await?;
            }
            // None: another worker had moved the checkpoint; read from there.
            if let Some(step) = self.try_apply().await? {
                return Ok(step);
            }
        }
    }

    /// Waits until the log has events for this projection (cancel-safe).
    pub async fn wait_for_events(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() && !self.reached_until() {
            self.pending = self.subscription.next_batch().await?;
        }
        Ok(())
    }

    fn reached_until(&self) -> bool {
        self.until.is_some_and(|until| self.expected >= until)
    }

    /// Applies what was read; on a moved checkpoint, starts over from it
    /// (and reports `CaughtUp`: the next wait reads from there).
    pub async fn apply_pending(&mut self) -> Result<Step, Error> {
        Ok(self.try_apply().await?.unwrap_or(Step::CaughtUp))
    }

    /// Applies what was read; `None` when the checkpoint had moved and this
    /// worker now resumes from it.
    async fn try_apply(&mut self) -> Result<Option<Step>, Error> {
        self.refuse_if_stopped().await?;
        // The batch is the prefix up to `until`; the rest stays pending.
        let take = match self.until {
            Some(until) => self.pending.partition_point(|e| e.position <= until),
            None => self.pending.len(),
        };
        let mut batch = std::mem::take(&mut self.pending);
        self.pending = batch.split_off(take);
        if batch.is_empty() {
            return Ok(Some(Step::CaughtUp));
        }
        let result = match self.commit(&batch).await {
            Err(Error::Apply(error)) if !error.is_transient() => self.isolate(&batch).await,
            other => other,
        };
        match result {
            Ok(()) => Ok(Some(Step::Progressed {
                position: self.expected,
                events: batch.len(),
            })),
            // Nothing more from this worker: the caller gives up its lease.
            Err(error @ Error::LeaseLost { .. }) => {
                self.pending.clear();
                Err(error)
            }
            // Nothing was skipped (the batch was refused); read again from
            // the checkpoint.
            Err(error @ Error::Drift { .. }) => {
                tracing::error!(
                    projection = self.projection.name(),
                    schema = %self.schema,
                    %error,
                    "refused a batch that would skip events"
                );
                self.resume_from(self.expected);
                Err(error)
            }
            Err(Error::CheckpointMoved { actual, .. }) => {
                tracing::info!(
                    projection = self.projection.name(),
                    schema = %self.schema,
                    from = self.expected,
                    to = actual,
                    "checkpoint moved by another worker or a swap; resuming from it"
                );
                self.resume_from(actual);
                Ok(None)
            }
            Err(error) => {
                // Keep what was not applied, in order, for the next try.
                let applied = batch.partition_point(|e| e.position <= self.expected);
                batch.drain(..applied);
                batch.append(&mut self.pending);
                self.pending = batch;
                Err(error)
            }
        }
    }

    /// Applies `events` (the next events of the log after this worker's
    /// position, e.g. read ahead by a rebuild) as one batch.
    pub async fn apply_events(&mut self, events: Vec<RecordedEvent>) -> Result<Step, Error> {
        debug_assert!(
            self.pending.is_empty(),
            "no events read by the subscription"
        );
        self.pending = events;
        // None: another worker or a swap had moved the checkpoint; this
        // worker now stands where it was moved to.
        Ok(self.try_apply().await?.unwrap_or(Step::CaughtUp))
    }

    /// Reads and applies the log from this worker's position up to
    /// `target`, which must be resolved (a position the shared tail has
    /// delivered, or one below its next batch): gaps up to there are
    /// crossed without waiting, and none is stopped at.
    pub async fn catch_up_to(&mut self, target: u64) -> Result<(), Error> {
        while self.expected < target {
            let events: Vec<RecordedEvent> = self
                .reader
                .read_settled(self.expected, target, self.options.batch_size)
                .await?
                .into_iter()
                .filter(|e| e.position <= target)
                .collect();
            if events.is_empty() {
                break;
            }
            self.apply_events(events).await?;
        }
        Ok(())
    }

    /// Applies a batch of the shared tail ([`crate::tail`]): skips what this
    /// worker has applied already and first reads any hole between its
    /// position and the batch from the log itself.
    pub async fn apply_shared(&mut self, batch: &[RecordedEvent]) -> Result<Step, Error> {
        let Some(first) = batch.first().map(|e| e.position) else {
            return Ok(Step::CaughtUp);
        };
        self.catch_up_to(first - 1).await?;
        let fresh: Vec<RecordedEvent> = batch
            .iter()
            .filter(|e| e.position > self.expected)
            .cloned()
            .collect();
        if fresh.is_empty() {
            return Ok(Step::CaughtUp);
        }
        self.apply_events(fresh).await
    }

    fn resume_from(&mut self, position: u64) {
        self.expected = position;
        self.pending.clear();
        self.subscription = self.reader.subscribe(position, self.options);
    }
}
