//! One read of the log for every projection of a process: a single
//! subscription whose batches are broadcast to the workers, instead of each
//! projection polling the log on its own (six readers woken by every
//! append cost the database more than the projections' own work).
//!
//! A worker that is behind a batch (it started lower, lagged behind the
//! channel, or a rebuild moved its checkpoint) reads the hole itself: every
//! position below a broadcast batch is already resolved, so that read never
//! waits on a gap.

use crate::error::Error;
use deedlog_eventstore::{LogReader, RecordedEvent, SubscriptionOptions};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Batches in the channel before a slow worker starts missing them (it
/// then reads the hole from the log).
const CAPACITY: usize = 256;

/// A batch of the log, shared by every worker.
pub type Batch = Arc<Vec<RecordedEvent>>;

/// The sending side; workers subscribe to it.
#[derive(Debug, Clone)]
pub struct Tail {
    sender: broadcast::Sender<Batch>,
    /// The last position broadcast: every position up to it is resolved.
    delivered: Arc<AtomicU64>,
}

impl Tail {
    /// Starts reading the log after `position` (which every projection has
    /// reached) until `shutdown`.
    pub fn start(
        reader: LogReader,
        position: u64,
        options: SubscriptionOptions,
        backoff: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        let delivered = Arc::new(AtomicU64::new(position));
        let tail = Self {
            sender: sender.clone(),
            delivered: delivered.clone(),
        };
        tokio::spawn(async move {
            let mut subscription = reader.subscribe(position, options);
            loop {
                let read = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    read = subscription.next_batch() => read,
                };
                match read {
                    // No receivers is fine: no worker holds a lease here.
                    Ok(batch) => {
                        if let Some(last) = batch.last() {
                            delivered.store(last.position, Ordering::Release);
                        }
                        drop(sender.send(Arc::new(batch)));
                    }
                    Err(error) => {
                        let error = Error::from(error);
                        tracing::warn!(%error, "read the log for the projections; retrying");
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                    }
                }
            }
        });
        tail
    }

    /// Batches from now on, and the position up to which earlier ones
    /// went (a new receiver reads up to there from the log itself).
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, u64) {
        let receiver = self.sender.subscribe();
        (receiver, self.delivered.load(Ordering::Acquire))
    }
}
