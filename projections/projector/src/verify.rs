//! Background verification: every interval, the next projection in turn is
//! reconciled against the log (rebuilt aside and compared row by row, see
//! [`crate::reconcile`]) and its drift rows are published in its [`Stats`],
//! so that "0 behind" can no longer hide a read model that lost events.
//!
//! Bounded: one projection per interval, one process at a time per
//! projection (reconciliation takes a lease), abandoned at shutdown; the
//! live workers only wait for the short moment the aside catches up.

use crate::projection::Projection;
use crate::reconcile;
use crate::stats::Stats;
use crate::Error;
use deedlog_eventstore::LogReader;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Reconciles the projections of a process in turn on a schedule.
#[derive(Debug)]
pub struct Verifier {
    pub projections: Vec<Arc<dyn Projection>>,
    pub pool: PgPool,
    pub reader: LogReader,
    pub interval: Duration,
    pub batch_size: u32,
    /// Where each projection's drift rows are published.
    pub stats: BTreeMap<&'static str, Arc<Stats>>,
}

impl Verifier {
    /// Verifies one projection every interval until `shutdown`.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        for projection in self.projections.iter().cycle() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.verify(projection.clone()) => {}
            }
        }
    }

    /// Reconciles `projection` once and publishes what it found.
    pub async fn verify(&self, projection: Arc<dyn Projection>) {
        let name = projection.name();
        match reconcile::reconcile(
            &self.pool,
            &self.reader,
            projection,
            self.batch_size,
            &mut |_| {},
        )
        .await
        {
            Ok(report) => {
                let drift = report.missing + report.extra + report.differing;
                if let Some(stats) = self.stats.get(name) {
                    stats.drift_rows.store(drift, Ordering::Relaxed);
                }
                if drift == 0 {
                    tracing::info!(
                        projection = name,
                        position = report.position,
                        run = report.run_id,
                        "verified the read model against the log"
                    );
                } else {
                    tracing::error!(
                        projection = name,
                        position = report.position,
                        run = report.run_id,
                        missing = report.missing,
                        extra = report.extra,
                        differing = report.differing,
                        "the read model has drifted from the log; see docs/operations/drift.md"
                    );
                }
            }
            Err(Error::ReconcileRunning(_)) => {
                tracing::debug!(projection = name, "another process is verifying it");
            }
            Err(error) => {
                tracing::warn!(projection = name, %error, "verify a read model; trying the next");
            }
        }
    }
}
