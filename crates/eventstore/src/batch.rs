//! Group commit in the application: concurrent appends of one tenant go to
//! the database together, in one round trip and one transaction
//! (`append_batch`), each still checked and answered on its own. Under light
//! load a batch is one append and nothing waits; under load the queue grows
//! while batches are in flight, so batches grow with it (ADR 0010).

use crate::append::{interpret, AppendOutcome, AppendRequest};
use crate::error::{sqlstate, Error};
use crate::limits;
use crate::store::EventStore;
use deedlog_kernel::TenantId;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

const BATCH_SQL: &str = "SELECT item, outcome, stream_version, positions, recorded_at \
     FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text[]::json[])";

/// How batches are formed.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Most appends in one batch.
    pub max_appends: usize,
    /// Batches in flight at once; while they all are, new appends queue up.
    pub in_flight: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            max_appends: 64,
            in_flight: 4,
        }
    }
}

struct Job {
    request: AppendRequest,
    reply: oneshot::Sender<Result<AppendOutcome, Error>>,
}

/// Appends through batches; cheap to clone.
#[derive(Debug, Clone)]
pub struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("stream", &self.request.stream_id)
            .finish()
    }
}

impl Batcher {
    /// Starts the batching task for `store`. Must run inside a Tokio runtime;
    /// the task ends when every clone of the batcher is dropped.
    pub fn start(store: EventStore, options: BatchOptions) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(collect(store, options, queue));
        Self { jobs }
    }

    /// Appends `request` like [`EventStore::append`], possibly together with others.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, Error> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .map_err(|_| Error::Corrupt {
                position: 0,
                reason: "the append batcher has stopped".to_owned(),
            })?;
        answer.await.map_err(|_| Error::Corrupt {
            position: 0,
            reason: "the append batcher dropped an append".to_owned(),
        })?
    }
}

/// Takes queued appends, groups them by tenant, and sends each group off.
async fn collect(
    store: EventStore,
    options: BatchOptions,
    mut queue: mpsc::UnboundedReceiver<Job>,
) {
    let slots = Arc::new(Semaphore::new(options.in_flight.max(1)));
    while let Some(first) = queue.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < options.max_appends.max(1) {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut groups: HashMap<TenantId, Vec<Job>> = HashMap::new();
        for job in jobs {
            groups
                .entry(job.request.metadata.tenant_id)
                .or_default()
                .push(job);
        }
        let store = store.clone();
        // One slot per round of groups: tenants rarely share a round.
        tokio::spawn(async move {
            for (tenant, group) in groups {
                run(&store, tenant, group).await;
            }
            drop(slot);
        });
    }
}

/// Appends one tenant's group: alone, or as a batch; a batch that collides
/// with a concurrent writer is retried append by append for precise answers.
async fn run(store: &EventStore, tenant: TenantId, group: Vec<Job>) {
    let (valid, invalid): (Vec<Job>, Vec<Job>) = group
        .into_iter()
        .partition(|job| limits::check(&job.request).is_ok());
    for job in invalid {
        let refusal = limits::check(&job.request)
            .err()
            .unwrap_or(Error::EmptyAppend);
        let _ = job.reply.send(Err(refusal));
    }
    if valid.len() <= 1 {
        for job in valid {
            let outcome = store.append(&job.request).await;
            let _ = job.reply.send(outcome);
        }
        return;
    }
    match append_batch(store, tenant, &valid).await {
        Ok(outcomes) => {
            if outcomes.iter().any(|o| matches!(o, Ok(o) if !o.duplicate)) {
                store.notifier.appended();
            }
            for (job, outcome) in valid.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        Err(error) if sqlstate(&error).as_deref() == Some("23505") => {
            for job in valid {
                let outcome = store.append(&job.request).await;
                let _ = job.reply.send(outcome);
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, appends = valid.len(), "append batch failed");
            for job in valid {
                let failure = Error::db("append a batch of events")(clone_error(&error));
                let _ = job.reply.send(Err(failure));
            }
        }
    }
}

/// One call of `append_batch`; an outcome per job, in order.
async fn append_batch(
    store: &EventStore,
    tenant: TenantId,
    jobs: &[Job],
) -> Result<Vec<Result<AppendOutcome, Error>>, sqlx::Error> {
    let requests: Vec<&AppendRequest> = jobs.iter().map(|j| &j.request).collect();
    let column = |f: &dyn Fn(&AppendRequest) -> uuid::Uuid| -> Vec<uuid::Uuid> {
        requests.iter().map(|r| f(r)).collect()
    };
    let stream_ids = column(&|r| r.stream_id.as_uuid());
    let command_ids = column(&|r| r.metadata.command_id.as_uuid());
    let correlation_ids = column(&|r| r.metadata.correlation_id.as_uuid());
    let causation_ids = column(&|r| r.metadata.causation_id.as_uuid());
    let stream_types: Vec<&str> = requests.iter().map(|r| r.stream_type.as_str()).collect();
    let expected: Vec<Option<i64>> = requests.iter().map(|r| r.expected.as_sql()).collect();
    let actors: Vec<&str> = requests.iter().map(|r| r.metadata.actor.trim()).collect();
    let traceparents: Vec<Option<&str>> = requests
        .iter()
        .map(|r| r.metadata.trace.as_ref().map(|t| t.traceparent.as_str()))
        .collect();
    let tracestates: Vec<Option<&str>> = requests
        .iter()
        .map(|r| {
            r.metadata
                .trace
                .as_ref()
                .and_then(|t| t.tracestate.as_deref())
        })
        .collect();
    let occurred: Vec<_> = requests.iter().map(|r| r.metadata.occurred_at).collect();
    let counts: Vec<i32> = requests
        .iter()
        .map(|r| i32::try_from(r.events.len()).unwrap_or(i32::MAX))
        .collect();
    let events = requests.iter().flat_map(|r| r.events.iter());
    let types: Vec<&str> = events.clone().map(|e| e.event_type.as_str()).collect();
    let versions: Vec<i32> = events
        .clone()
        .map(|e| i32::try_from(e.schema_version).unwrap_or(i32::MAX))
        .collect();
    let payloads: Vec<&str> = events.map(|e| e.payload.get()).collect();
    let rows = sqlx::query(BATCH_SQL)
        .bind(tenant.as_uuid())
        .bind(&stream_ids)
        .bind(&stream_types)
        .bind(&expected)
        .bind(&command_ids)
        .bind(&actors)
        .bind(&correlation_ids)
        .bind(&causation_ids)
        .bind(&traceparents)
        .bind(&tracestates)
        .bind(&occurred)
        .bind(&counts)
        .bind(&types)
        .bind(&versions)
        .bind(&payloads)
        .fetch_all(&store.app_pool)
        .await?;
    if rows.len() != requests.len() {
        return Err(sqlx::Error::Protocol(format!(
            "append_batch answered {} rows for {} appends",
            rows.len(),
            requests.len()
        )));
    }
    Ok(requests
        .iter()
        .zip(&rows)
        .map(|(request, row)| interpret(request, row))
        .collect())
}

/// sqlx errors are not Clone; every job of a failed batch gets an equivalent.
fn clone_error(error: &sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
