//! Works one projection in one schema: reads batches from the log, applies
//! each with its checkpoint in one transaction, isolates an event that
//! cannot be applied into the dead letters.

use crate::checkpoint;
use crate::dead_letter;
use crate::error::Error;
use crate::projection::{ApplyError, FailurePolicy, Projection};
use crate::schema;
use crate::stats::Stats;
use deedlog_eventstore::{LogReader, RecordedEvent, Subscription, SubscriptionOptions};
use sqlx::{Acquire, PgConnection, PgPool};
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

    /// Refuses to move the checkpoint from where it is to `to` with `count`
    /// events when the log holds more than that in between: the missing
    /// ones would be skipped for good. A dense move needs no look.
    async fn check_crossing(&self, to: u64, count: usize) -> Result<(), Error> {
        let count = count as u64;
        if to.saturating_sub(self.expected) == count {
            return Ok(());
        }
        let held = self.reader.count_between(self.expected, to).await?;
        if held == count {
            return Ok(());
        }
        self.stats
            .refused_skips
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(Error::Drift {
            projection: self.projection.name().to_owned(),
            from: self.expected,
            to,
            missing: held.saturating_sub(count),
        })
    }

    fn resume_from(&mut self, position: u64) {
        self.expected = position;
        self.pending.clear();
        self.subscription = self.reader.subscribe(position, self.options);
    }

    /// With the stop policy, a pending dead letter halts the projection.
    async fn refuse_if_stopped(&mut self) -> Result<(), Error> {
        if self.projection.policy() != FailurePolicy::DeadLetterAndStop {
            return Ok(());
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("check dead letters"))?;
        match dead_letter::first_pending(&mut conn, &self.schema).await? {
            Some(letter) => Err(Error::Stopped {
                projection: self.projection.name().to_owned(),
                position: letter.position,
                dead_letter: letter.id,
            }),
            None => Ok(()),
        }
    }

    /// Applies `events` and moves the checkpoint, in one transaction.
    async fn commit(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
        let last = events.last().expect("callers pass a non-empty batch");
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("apply a batch"))?;
        let _spans = crate::trace::event_spans(self.projection.name(), events);
        self.check_crossing(last.position, events.len()).await?;
        let mut tx = conn.begin().await.map_err(Error::db("apply a batch"))?;
        apply_in(
            &mut tx,
            self.projection.as_ref(),
            &self.schema,
            (self.expected, self.epoch),
            events,
        )
        .await?;
        tx.commit().await.map_err(Error::db("commit a batch"))?;
        self.expected = last.position;
        self.stats
            .committed(events.len(), last.position, last.recorded_at);
        Ok(())
    }

    /// Applies `events` one at a time; the one that cannot be applied goes to
    /// the dead letters with the checkpoint moved past it.
    async fn isolate(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
        for event in events {
            match self.commit(std::slice::from_ref(event)).await {
                Ok(()) => {}
                Err(Error::Apply(error)) if !error.is_transient() => {
                    self.bury(event, &error).await?;
                    if self.projection.policy() == FailurePolicy::DeadLetterAndStop {
                        // The rest of the batch waits behind the dead letter
                        // (the caller keeps what is past the checkpoint).
                        return self.refuse_if_stopped().await;
                    }
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    async fn bury(&mut self, event: &RecordedEvent, error: &ApplyError) -> Result<(), Error> {
        let context = "record a dead letter";
        self.check_crossing(event.position, 1).await?;
        let mut conn = self.pool.acquire().await.map_err(Error::db(context))?;
        let mut tx = conn.begin().await.map_err(Error::db(context))?;
        schema::use_schema(&mut tx, &self.schema).await?;
        checkpoint::lock_at(&mut tx, &self.schema, self.expected, self.epoch).await?;
        let id = dead_letter::record(
            &mut tx,
            self.projection.name(),
            &self.schema,
            event,
            &error.to_string(),
        )
        .await?;
        checkpoint::advance(&mut tx, event.position, event.recorded_at).await?;
        tx.commit().await.map_err(Error::db(context))?;
        tracing::warn!(
            projection = self.projection.name(),
            position = event.position,
            event_type = %event.event_type,
            dead_letter = id,
            %error,
            "event sent to the dead letters"
        );
        self.expected = event.position;
        self.stats
            .dead_letters
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.stats
            .position
            .store(event.position, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Inside the caller's transaction: locks the checkpoint of `schema` at
/// `expected` (a position, and the lease epoch of a leased worker), applies
/// `events` and moves the checkpoint to the last one.
pub async fn apply_in(
    tx: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
    expected: (u64, Option<i64>),
    events: &[RecordedEvent],
) -> Result<(), Error> {
    let Some(last) = events.last() else {
        return Ok(());
    };
    prepare_batch(tx, schema, expected.1.is_some()).await?;
    checkpoint::lock_at(tx, schema, expected.0, expected.1).await?;
    projection.apply(tx, events).await?;
    checkpoint::advance(tx, last.position, last.recorded_at).await
}

/// Points the caller's transaction at `schema` and sets how a batch runs;
/// a `leased` worker's batch is bounded in idle time.
pub async fn prepare_batch(tx: &mut PgConnection, schema: &str, leased: bool) -> Result<(), Error> {
    // One round trip: the schema, and how this transaction runs.
    // - No waiting for the WAL flush: read models are derived and the
    //   checkpoint commits with them, so a commit lost in a crash is simply
    //   applied again (and waiting would add milliseconds of lag).
    // - No sequential scans: batches read and write rows by key, and a
    //   table that grew from empty during a rebuild has no statistics yet,
    //   so the planner would scan it whole for every batch.
    // - No JIT: that scan penalty would make PostgreSQL compile every
    //   statement (tens of milliseconds each).
    // - A leased worker frozen mid-batch (SIGSTOP, a stalled VM) must not
    //   hold the checkpoint row, and so the next lease holder, for ever.
    let idle = if leased {
        "; SET LOCAL idle_in_transaction_session_timeout = '10s'"
    } else {
        ""
    };
    schema::script(
        tx,
        &format!(
            "SET LOCAL search_path TO {}; SET LOCAL synchronous_commit = off; \
             SET LOCAL enable_seqscan = off; SET LOCAL jit = off{idle}",
            schema::ident(schema)?
        ),
    )
    .await
    .map_err(Error::db("prepare a batch"))
}
