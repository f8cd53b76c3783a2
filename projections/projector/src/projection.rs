//! What a read model is made of, as the projector sees it.

use async_trait::async_trait;
use deedlog_eventstore::RecordedEvent;
use sqlx::PgConnection;

/// What the projector does with an event the projection cannot apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Record it as a dead letter and go on with the next event.
    DeadLetterAndContinue,
    /// Record it as a dead letter and stop the projection until an operator
    /// replays or skips it (for read models where order matters more than
    /// freshness).
    DeadLetterAndStop,
}

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event does not fit the read model (undecodable payload, a row
    /// the event needs is missing, a constraint refused it). Retrying will
    /// not help; the event goes to the dead letters.
    #[error("event at position {position} ({event_type}): {reason}")]
    Event {
        position: u64,
        event_type: String,
        reason: String,
    },
    /// The database failed; transient failures are retried.
    #[error("{context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl ApplyError {
    /// Builds an [`ApplyError::Event`] for `event`.
    pub fn event(event: &RecordedEvent, reason: impl std::fmt::Display) -> Self {
        ApplyError::Event {
            position: event.position,
            event_type: event.event_type.clone(),
            reason: reason.to_string(),
        }
    }

    /// Wraps a database error with what was being done.
    pub fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| ApplyError::Database { context, source }
    }

    /// Whether trying the same batch again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApplyError::Event { .. } => false,
            ApplyError::Database { source, .. } => crate::error::is_transient_db(source),
        }
    }
}

/// A read model built from the log.
///
/// `apply` runs inside the projector's transaction with `search_path` set to
/// the schema being written (live or a rebuild aside), so it names tables
/// without a schema. It must not read the clock or anything but the events
/// and its own tables: a rebuild has to produce the same rows.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug + 'static {
    /// Short name, e.g. `properties`; the live schema is `rm_<name>`.
    fn name(&self) -> &'static str;

    /// The DDL of its tables, without schema names.
    fn ddl(&self) -> &'static str;

    /// What to do with an event it cannot apply.
    fn policy(&self) -> FailurePolicy {
        FailurePolicy::DeadLetterAndContinue
    }

    /// The stream types whose events it reads, when not all: a rebuild's
    /// reader opens sealed personal fields of these only (ADR 0035), and
    /// spares the work on the rest of the log.
    fn stream_types(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Applies `events` (in position order, every stream type) to its tables.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError>;
}
