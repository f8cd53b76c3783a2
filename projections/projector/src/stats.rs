//! What a running projection has done, for metrics and status.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Counters of one projection worker, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events applied (all stream types, dead letters excluded).
    pub events: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Events sent to the dead letters.
    pub dead_letters: AtomicU64,
    /// The checkpoint after the last commit.
    pub position: AtomicU64,
    /// Milliseconds since the epoch at which the log recorded the last
    /// applied event.
    pub event_recorded_at_ms: AtomicI64,
    /// Milliseconds since the epoch of the last commit.
    pub committed_at_ms: AtomicI64,
    /// Batches refused because they would have moved the checkpoint across
    /// events of the log they did not hold (see `Error::Drift`).
    pub refused_skips: AtomicU64,
    /// Rows that differed between the live read model and the log at the
    /// last background verification (missing + extra + differing).
    pub drift_rows: AtomicU64,
}

impl Stats {
    /// Counts a committed batch whose last event is at `position`.
    pub fn committed(
        &self,
        events: usize,
        position: u64,
        recorded_at: chrono::DateTime<chrono::Utc>,
    ) {
        self.events.fetch_add(events as u64, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.position.store(position, Ordering::Relaxed);
        self.event_recorded_at_ms
            .store(recorded_at.timestamp_millis(), Ordering::Relaxed);
        self.committed_at_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }
}
