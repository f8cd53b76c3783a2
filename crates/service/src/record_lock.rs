//! One command at a time per record within an instance: commands on the
//! same record queue here instead of racing to the log and losing on its
//! version check. Instances still race one another; the executor retries
//! those with jittered backoff.

use deedlog_kernel::{StreamId, TenantId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::OwnedMutexGuard;

/// Records whose queues are forgotten once this many are tracked and idle.
const SWEEP_AT: usize = 4096;

type Key = (TenantId, StreamId);

/// A queue per record that has a command in flight.
#[derive(Debug, Default)]
pub struct RecordLocks {
    queues: Mutex<HashMap<Key, Weak<tokio::sync::Mutex<()>>>>,
}

impl RecordLocks {
    /// Waits for the commands ahead on this record; the guard lets the next one go.
    pub async fn lock(&self, tenant: TenantId, stream: StreamId) -> OwnedMutexGuard<()> {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            match queues.get(&(tenant, stream)).and_then(Weak::upgrade) {
                Some(queue) => queue,
                None => {
                    if queues.len() >= SWEEP_AT {
                        queues.retain(|_, queue| queue.strong_count() > 0);
                    }
                    let queue = Arc::new(tokio::sync::Mutex::new(()));
                    queues.insert((tenant, stream), Arc::downgrade(&queue));
                    queue
                }
            }
        };
        queue.lock_owned().await
    }

    /// Records tracked now (idle ones until the next sweep).
    pub fn tracked(&self) -> usize {
        self.queues.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use uuid::Uuid;

    fn key(n: u128) -> (TenantId, StreamId) {
        (
            TenantId::from_uuid(Uuid::from_u128(1)),
            StreamId::from_uuid(Uuid::from_u128(n)),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commands_on_one_record_run_one_at_a_time_and_others_in_parallel() {
        let locks = Arc::new(RecordLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let (tenant, stream) = key(7);
                    let _turn = locks.lock(tenant, stream).await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        // Another record is not held up by a held one.
        let (tenant, stream) = key(7);
        let _held = locks.lock(tenant, stream).await;
        let (tenant, other) = key(8);
        tokio::time::timeout(std::time::Duration::from_secs(1), locks.lock(tenant, other))
            .await
            .expect("another record goes ahead");
    }

    #[tokio::test]
    async fn idle_queues_are_swept() {
        let locks = RecordLocks::default();
        for n in 0..(SWEEP_AT as u128 + 10) {
            let (tenant, stream) = key(n);
            drop(locks.lock(tenant, stream).await);
        }
        assert!(locks.tracked() <= SWEEP_AT, "{}", locks.tracked());
    }
}
