//! Group commit (ADR 0040): concurrent appends of one process gather while
//! the previous batch is in flight, and only then, and go to PostgreSQL as
//! one call of `append_batch` in one transaction. A lone writer waits for
//! nothing: a batch of one takes the single-append path.

use crate::append::{AppendOutcome, AppendRequest};
use crate::error::Error;
use crate::store::{EventStore, IDLE_TIMEOUT};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// How appends are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// Most commands in one batch.
    pub max_batch: usize,
    /// Batches in flight at once, each on its own connection and taking
    /// its own share of the streams.
    pub in_flight: usize,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            max_batch: 64,
            in_flight: 2,
        }
    }
}

/// A command with more events than this skips the queue: it is a batch of
/// its own already.
pub(crate) const MAX_EVENTS_TO_GROUP: usize = 64;

type Reply = oneshot::Sender<Result<AppendOutcome, Error>>;

/// The sending ends of the queues; the batchers stop once every copy is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    senders: Arc<[mpsc::Sender<(AppendRequest, Reply)>]>,
}

impl Queue {
    /// Starts `options.in_flight` batchers appending through `store` (a
    /// store without a queue of its own), each with its own queue.
    pub(crate) fn start(store: EventStore, options: GroupCommit) -> Self {
        let max_batch = options.max_batch.max(1);
        let senders = (0..options.in_flight.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(max_batch * 4);
                tokio::spawn(batcher(store.clone(), receiver, max_batch));
                sender
            })
            .collect();
        Self { senders }
    }

    /// Queues `request` and waits for its outcome. A stream's appends
    /// always take the same queue, so two batches in flight never race
    /// each other for one stream.
    pub(crate) async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome, Error> {
        let shard = request.stream_id.as_uuid().as_u128() % self.senders.len() as u128;
        let sender = &self.senders[usize::try_from(shard).unwrap_or(0)];
        let (reply, outcome) = oneshot::channel();
        sender
            .send((request.clone(), reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Corrupt {
        position: 0,
        reason: "the group commit stopped before answering".to_owned(),
    }
}

/// Takes what has queued up (at least one, at most `max_batch`) whenever it
/// is free, and appends it as one batch, on a connection of its own that it
/// closes after `IDLE_TIMEOUT` without appends.
async fn batcher(
    store: EventStore,
    mut receiver: mpsc::Receiver<(AppendRequest, Reply)>,
    max_batch: usize,
) {
    let mut held: Option<PgConnection> = None;
    loop {
        // Like the pool, a quiet batcher gives its connection back.
        let first = if held.is_some() {
            match tokio::time::timeout(IDLE_TIMEOUT, receiver.recv()).await {
                Ok(first) => first,
                Err(_quiet) => {
                    if let Some(conn) = held.take() {
                        let _ = conn.close().await;
                    }
                    continue;
                }
            }
        } else {
            receiver.recv().await
        };
        let Some(first) = first else { break };
        // Writers just answered by the previous batch are ready to run:
        // let them queue their next appends before this batch closes.
        tokio::task::yield_now().await;
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        if held.is_none() {
            held = own_connection(&store).await;
        }
        let outcomes = match held.as_mut() {
            Some(conn) => {
                let (outcomes, healthy) = store.append_batch_on(conn, &requests).await;
                if !healthy {
                    if let Some(conn) = held.take() {
                        let _ = conn.close().await;
                    }
                }
                outcomes
            }
            // The pool is out of reach: each append tries, and fails, on its own.
            None => store.append_batch(&requests).await,
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A caller that gave up is not waiting; its append stands.
            let _ = reply.send(outcome);
        }
    }
    if let Some(conn) = held {
        let _ = conn.close().await;
    }
}

/// A connection of the application pool, taken out of it for good: a
/// batcher sends nothing but `append_batch`, from batch to batch, without
/// the pool's checks on every hand-over. Its one statement may keep a
/// generic plan (the function's own statements always do), which saves
/// planning the call again for every batch.
async fn own_connection(store: &EventStore) -> Option<PgConnection> {
    let mut conn = store.app_pool.acquire().await.ok()?.detach();
    match conn
        .execute("SET plan_cache_mode = force_generic_plan")
        .await
    {
        Ok(_) => Some(conn),
        Err(_) => {
            let _ = conn.close().await;
            None
        }
    }
}
