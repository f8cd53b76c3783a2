//! Writing a batch: applied with its checkpoint in one transaction, or one
//! event at a time with the one that fails sent to the dead letters.

use super::Projector;
use crate::checkpoint;
use crate::dead_letter;
use crate::error::Error;
use crate::projection::{index_keys, ApplyError, FailurePolicy, Keys, Projection};
use crate::schema;
use deedlog_eventstore::RecordedEvent;
use sqlx::{Acquire, PgConnection};

impl Projector {
    /// Refuses to move the checkpoint from where it is to `to` with `count`
    /// events when the log holds more than that in between: the missing
    /// ones would be skipped for good. A dense move needs no look.
    pub(super) async fn check_crossing(&self, to: u64, count: usize) -> Result<(), Error> {
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

    /// With the stop policy, a pending dead letter halts the projection.
    pub(super) async fn refuse_if_stopped(&mut self) -> Result<(), Error> {
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
    pub(super) async fn commit(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
        let last = events.last().expect("callers pass a non-empty batch");
        let index_keys = index_keys(self.reader.keyring(), events).await?;
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
            Keys::new(index_keys.as_ref()),
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
    pub(super) async fn isolate(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
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
    keys: Keys<'_>,
) -> Result<(), Error> {
    let Some(last) = events.last() else {
        return Ok(());
    };
    prepare_batch(tx, schema, expected.1.is_some()).await?;
    checkpoint::lock_at(tx, schema, expected.0, expected.1).await?;
    projection.apply(tx, events, keys).await?;
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
