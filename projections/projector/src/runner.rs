//! Runs every projection of a process, each in a task of its own: create
//! the live schema when missing, take the lease, work batches as they
//! come, back off on failures, stop cleanly on shutdown.

use crate::error::Error;
use crate::lease::{self, LeaseSession};
use crate::projection::Projection;
use crate::schema;
use crate::stats::Stats;
use crate::tail::Tail;
use crate::worker::{Projector, Step};
use deedlog_eventstore::{LogReader, SubscriptionOptions};
use futures::future::{BoxFuture, FutureExt};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How the runner works.
#[derive(Debug, Clone, Copy)]
pub struct RunnerOptions {
    pub subscription: SubscriptionOptions,
    /// First wait after a failure; doubled up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often a worker without the lease tries to take it, and how often
    /// a worker with it checks that its lease connection is alive.
    pub lease_interval: Duration,
    /// After a batch, how long a worker lets events gather before reading
    /// again: under load, fewer and larger transactions (less work for the
    /// database, so lower lag); when idle it costs nothing.
    pub linger: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            subscription: SubscriptionOptions::default(),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            lease_interval: Duration::from_secs(5),
            linger: Duration::from_millis(5),
        }
    }
}

/// The projections of one process.
#[derive(Debug)]
pub struct Runner {
    projections: Vec<Arc<dyn Projection>>,
    pool: PgPool,
    reader: LogReader,
    options: RunnerOptions,
    stats: BTreeMap<&'static str, Arc<Stats>>,
}

impl Runner {
    pub fn new(
        projections: Vec<Arc<dyn Projection>>,
        pool: PgPool,
        reader: LogReader,
        options: RunnerOptions,
    ) -> Self {
        let stats = projections
            .iter()
            .map(|p| (p.name(), Arc::new(Stats::default())))
            .collect();
        Self {
            projections,
            pool,
            reader,
            options,
            stats,
        }
    }

    /// Each projection's counters, by name.
    pub fn stats(&self) -> &BTreeMap<&'static str, Arc<Stats>> {
        &self.stats
    }

    /// Creates every live schema that is missing.
    pub async fn prepare(&self) -> Result<(), Error> {
        for projection in &self.projections {
            ensure_live(self.pool.clone(), projection.clone()).await?;
        }
        Ok(())
    }

    /// Works every projection until `shutdown`; a batch in progress is
    /// finished, not abandoned.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        let Some(start) = self.lowest_checkpoint(&shutdown).await else {
            return;
        };
        let tail = Tail::start(
            self.reader.clone(),
            start,
            self.options.subscription,
            self.options.backoff_min,
            shutdown.clone(),
        );
        // Every projection's lease on one session: one connection in all.
        let leases = LeaseSession::new(self.pool.clone(), self.options.lease_interval);
        let mut tasks = tokio::task::JoinSet::new();
        for projection in self.projections {
            let stats = self.stats[projection.name()].clone();
            let worker = Worker {
                projection,
                pool: self.pool.clone(),
                reader: self.reader.clone(),
                options: self.options,
                stats,
                tail: tail.clone(),
                leases: leases.clone(),
            };
            tasks.spawn(worker.run(shutdown.clone()));
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(error) = done {
                tracing::error!(%error, "a projection task panicked");
            }
        }
    }
}

impl Runner {
    /// The lowest checkpoint of all projections (creating missing schemas):
    /// where the shared tail can start. Retries until it can tell, or
    /// returns None on shutdown.
    async fn lowest_checkpoint(&self, shutdown: &CancellationToken) -> Option<u64> {
        let mut backoff = self.options.backoff_min;
        loop {
            match lowest_checkpoint(&self.pool, &self.projections).await {
                Ok(position) => return Some(position),
                Err(error) => {
                    tracing::warn!(%error, "read the projections' checkpoints; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return None,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.backoff_max);
                }
            }
        }
    }
}

async fn lowest_checkpoint(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> Result<u64, Error> {
    let mut lowest = u64::MAX;
    for projection in projections {
        ensure_live(pool.clone(), projection.clone()).await?;
        let mut conn = pool
            .acquire()
            .await
            .map_err(Error::db("read a checkpoint"))?;
        let at = crate::checkpoint::read(&mut conn, &schema::live(projection.name())).await?;
        lowest = lowest.min(at.position);
    }
    Ok(if lowest == u64::MAX { 0 } else { lowest })
}

/// Creates the live schema of `projection` if it does not exist, and warns
/// when it was built from other DDL than the running code's.
pub async fn ensure_live(pool: PgPool, projection: Arc<dyn Projection>) -> Result<(), Error> {
    // Owned arguments: a future borrowing them trips rustc's Send inference
    // in the worker task.
    let (pool, projection) = (&pool, projection.as_ref());
    let context = "prepare a projection schema";
    let live = schema::live(projection.name());
    let mut tx = pool.begin().await.map_err(Error::db(context))?;
    // Two processes starting together must not both create it: a lock
    // for this transaction, on the connection it already has.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lease::key(&format!("create.{}", projection.name())))
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context))?;
    if !schema::exists(&mut tx, &live).await? {
        schema::create(&mut tx, projection, &live).await?;
        tracing::info!(projection = projection.name(), schema = %live, "created read model");
    } else {
        crate::checkpoint::upgrade(&mut tx, &live).await?;
        // A schema made before personal columns were hidden loses the
        // analyst's access to them now, not at its next rebuild.
        schema::grant_analyst(&mut tx, projection, &live).await?;
        let at = crate::checkpoint::read(&mut tx, &live).await?;
        if at.ddl_hash != schema::ddl_hash(projection) {
            tracing::warn!(
                projection = projection.name(),
                "the read model was built from other DDL than this version's; run `deedlog rebuild {}`",
                projection.name()
            );
        }
    }
    tx.commit().await.map_err(Error::db(context))
}

struct Worker {
    projection: Arc<dyn Projection>,
    pool: PgPool,
    reader: LogReader,
    options: RunnerOptions,
    stats: Arc<Stats>,
    tail: Tail,
    leases: LeaseSession,
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        let name = self.projection.name();
        let mut backoff = self.options.backoff_min;
        while !shutdown.is_cancelled() {
            match self.work_while_leased(&shutdown).await {
                Ok(()) => backoff = self.options.backoff_min,
                Err(error) => {
                    if matches!(error, Error::Stopped { .. }) {
                        tracing::error!(projection = name, %error, "projection stopped");
                    } else {
                        tracing::warn!(projection = name, %error, retry_in_ms = backoff.as_millis() as u64, "projection failed; retrying");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.backoff_max);
                }
            }
        }
        tracing::info!(projection = name, "projection stopped for shutdown");
    }

    /// Takes the lease (or waits for it) and works until shutdown, a failure
    /// or the loss of the lease.
    fn work_while_leased<'a>(
        &'a self,
        shutdown: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Error>> {
        // Boxed: rustc cannot prove the composed future Send otherwise.
        async move { self.work(shutdown).await }.boxed()
    }

    async fn work(&self, shutdown: &CancellationToken) -> Result<(), Error> {
        let name = self.projection.name();
        ensure_live(self.pool.clone(), self.projection.clone()).await?;
        let Some(lease) = self.leases.try_acquire(name).await? else {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(self.options.lease_interval) => {}
            }
            return Ok(());
        };
        // Checked by the session's own task: noticed within the interval
        // under any load, not only when the batches pause.
        tracing::info!(projection = name, "took the projection lease");
        let lost = || Error::LeaseLost {
            schema: schema::live(name),
            reason: "its session failed a check".to_owned(),
        };
        let mut projector = Projector::open(
            self.projection.clone(),
            self.pool.clone(),
            self.reader.clone(),
            schema::live(name),
            self.options.subscription,
        )
        .await?
        .with_stats(self.stats.clone());
        projector.fence().await?;
        // Batches broadcast before this subscription are read from the log.
        let (mut batches, delivered) = self.tail.subscribe();
        projector.catch_up_to(delivered).await?;
        loop {
            let received = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = lease.lost() => return Err(lost()),
                received = batches.recv() => received,
            };
            let batch = match received {
                Ok(batch) => batch,
                // Missed batches are read from the log with the next one.
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(projection = name, missed, "behind the shared tail");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            // Batches that arrived meanwhile (while lingering) go in the
            // same transaction; they follow each other without a hole.
            let mut events = batch.to_vec();
            while let Ok(more) = batches.try_recv() {
                events.extend(more.iter().cloned());
            }
            // Not raced against shutdown: a started batch is finished.
            if let Step::Progressed { .. } = projector.apply_shared(&events).await? {
                tokio::time::sleep(self.options.linger).await;
            }
        }
        lease.release().await;
        Ok(())
    }
}
