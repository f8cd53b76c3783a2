//! Settings of the projector: batches, rebuilds, retries and leases.

use super::{check_listen, check_ranges, Error};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectorSettings {
    /// Most events in one live batch (one transaction).
    pub batch_size: u32,
    /// Most events in one batch of a rebuild or reconciliation.
    pub rebuild_batch_size: u32,
    /// First wait after a failure, doubled up to `backoff_max_ms`.
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    /// How often a waiting process tries to take a projection's lease, and
    /// a working one checks that it still holds it.
    pub lease_interval_ms: u64,
    /// After a batch, how long events gather before the next read.
    pub linger_ms: u64,
    /// Where the projector reads events: the PostgreSQL log itself, or the
    /// Kafka topic the relay fills (as a member of `kafka.group_id`).
    pub source: ProjectorSource,
    /// Where the projector serves `/metrics` (Prometheus text); empty: nowhere.
    pub metrics_listen: String,
    /// Seconds between background verifications, each of which reconciles
    /// the next projection in turn against the log; 0: none.
    pub verify_interval_s: u64,
}

impl Default for ProjectorSettings {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            rebuild_batch_size: 5000,
            backoff_min_ms: 100,
            backoff_max_ms: 30_000,
            lease_interval_ms: 5000,
            linger_ms: 5,
            source: ProjectorSource::Log,
            metrics_listen: "127.0.0.1:9465".into(),
            verify_interval_s: 3600,
        }
    }
}

/// Where projectors read the log from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectorSource {
    Log,
    Kafka,
}

impl ProjectorSettings {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_ranges(&[
            ("projector.batch_size", self.batch_size.into(), 1, 100_000),
            (
                "projector.rebuild_batch_size",
                self.rebuild_batch_size.into(),
                1,
                100_000,
            ),
            ("projector.backoff_min_ms", self.backoff_min_ms, 1, 60_000),
            (
                "projector.backoff_max_ms",
                self.backoff_max_ms,
                self.backoff_min_ms,
                3_600_000,
            ),
            ("projector.linger_ms", self.linger_ms, 0, 1_000),
            (
                "projector.lease_interval_ms",
                self.lease_interval_ms,
                10,
                600_000,
            ),
            (
                "projector.verify_interval_s",
                self.verify_interval_s,
                0,
                604_800,
            ),
        ])?;
        check_listen("projector.metrics_listen", &self.metrics_listen)?;

        Ok(())
    }

    pub fn backoff_min(&self) -> Duration {
        Duration::from_millis(self.backoff_min_ms)
    }

    pub fn backoff_max(&self) -> Duration {
        Duration::from_millis(self.backoff_max_ms)
    }

    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.linger_ms)
    }

    pub fn lease_interval(&self) -> Duration {
        Duration::from_millis(self.lease_interval_ms)
    }

    /// The pause between background verifications, if they are on.
    pub fn verify_interval(&self) -> Option<Duration> {
        (self.verify_interval_s > 0).then(|| Duration::from_secs(self.verify_interval_s))
    }
}
