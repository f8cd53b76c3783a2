//! A projection wrapper that fails or stalls on demand, for tests of what
//! the runtime does when a projection misbehaves.

use async_trait::async_trait;
use deedlog_eventstore::RecordedEvent;
use deedlog_projector::{ApplyError, FailurePolicy, Keys, Projection};
use sqlx::PgConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Wraps a projection: refuses the event at `poison` until `fixed`, and can
/// stall after applying (before the commit) until released.
#[derive(Debug)]
pub struct Faulty {
    pub inner: Arc<dyn Projection>,
    pub poison: AtomicU64,
    pub fixed: AtomicBool,
    pub stall: AtomicBool,
    pub stalled: Notify,
    pub policy: FailurePolicy,
}

impl Faulty {
    pub fn new(inner: Arc<dyn Projection>) -> Self {
        Self {
            inner,
            poison: AtomicU64::new(0),
            fixed: AtomicBool::new(false),
            stall: AtomicBool::new(false),
            stalled: Notify::new(),
            policy: FailurePolicy::DeadLetterAndContinue,
        }
    }
}

#[async_trait]
impl Projection for Faulty {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn ddl(&self) -> &'static str {
        self.inner.ddl()
    }
    fn policy(&self) -> FailurePolicy {
        self.policy
    }
    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
        keys: Keys<'_>,
    ) -> Result<(), ApplyError> {
        let poison = self.poison.load(Ordering::SeqCst);
        if !self.fixed.load(Ordering::SeqCst) {
            if let Some(bad) = events.iter().find(|e| e.position == poison) {
                return Err(ApplyError::event(bad, "simulated bug in the projection"));
            }
        }
        self.inner.apply(conn, events, keys).await?;
        if self.stall.load(Ordering::SeqCst) {
            self.stalled.notify_one();
            // Applied, not committed: the test aborts the task here.
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}
