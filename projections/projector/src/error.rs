//! Errors of the projector and its operations.

use crate::projection::ApplyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown projection {name:?}; the projections are: {known}")]
    UnknownProjection { name: String, known: String },
    #[error("{context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Log(#[from] deedlog_eventstore::Error),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// Another worker or a swap moved the checkpoint: this worker's view is stale.
    #[error("the checkpoint of {schema} is at {actual}, not at {expected}: another worker or a rebuild moved it")]
    CheckpointMoved {
        schema: String,
        expected: u64,
        actual: u64,
    },
    #[error("projection {projection} is stopped at position {position} by dead letter {dead_letter}: replay or skip it (deedlog dlq)")]
    Stopped {
        projection: String,
        position: u64,
        dead_letter: i64,
    },
    #[error("no dead letter with id {0}")]
    NoSuchDeadLetter(i64),
    #[error("dead letter {id} is already {status}")]
    DeadLetterResolved { id: i64, status: String },
    /// A batch would move the checkpoint across events the log holds but
    /// the batch does not: applying it would skip them for good.
    #[error("projection {projection} refused to move its checkpoint from {from} to {to}: the log holds {missing} event(s) in that range that the batch does not (a skip; see docs/operations/drift.md)")]
    Drift {
        projection: String,
        from: u64,
        to: u64,
        missing: u64,
    },
    /// This worker's lease is gone (its session failed, or another worker
    /// took it over): it must apply nothing more.
    #[error("the lease on {schema} was lost: {reason}")]
    LeaseLost { schema: String, reason: String },
    #[error("{0}")]
    Schema(String),
    #[error("a rebuild of {0} is already running in another process")]
    RebuildRunning(String),
    #[error("a reconciliation of {0} is already running in another process")]
    ReconcileRunning(String),
    /// A position or count read from or written to a table does not fit its type.
    #[error(transparent)]
    Overflow(#[from] deedlog_kernel::Overflow),
}

impl Error {
    /// Wraps a driver error with what was being done (for `map_err`); the
    /// Kafka adapter words its database failures the same way.
    pub fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Error::Database { context, source }
    }

    /// Whether the same work may succeed when tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Database { source, .. } => is_transient_db(source),
            Error::Log(e) => e.is_transient(),
            Error::Apply(e) => e.is_transient(),
            Error::CheckpointMoved { .. } | Error::LeaseLost { .. } => true,
            _ => false,
        }
    }
}

/// Connection trouble, serialization failures, deadlocks, and objects that
/// vanished under a concurrent schema swap: worth another try.
pub(crate) fn is_transient_db(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            // 08 connection, 40 serialization/deadlock, 57 operator
            // intervention (shutdown), 53 resources, 42P01 a table renamed
            // away by a swap while this statement waited for it.
            code.starts_with("08")
                || code.starts_with("40")
                || code.starts_with("57")
                || code.starts_with("53")
                || code == "42P01"
                || code == "3F000"
        }
        _ => false,
    }
}
