//! What a read model is made of, as the projector sees it.

use async_trait::async_trait;
use deedlog_eventstore::RecordedEvent;
use deedlog_privacy::{IndexKeys, Keyring};
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

    /// The stream types whose sealed personal fields it reads, when not
    /// all: a rebuild's reader opens those only (ADR 0035), and spares the
    /// work on the rest of the log. The others reach `apply` as stored.
    fn opens(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Applies `events` (in position order, every stream type) to its
    /// tables; `keys` computes blind indexes.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
        keys: Keys<'_>,
    ) -> Result<(), ApplyError>;
}

/// The key service as a projection may use it: for blind indexes only
/// (ADR 0036), with the batch's tenants' index keys fetched before its
/// transaction began ([`index_keys`]), so applying does no I/O for them.
/// They come from the projector's log reader's keyring, so a rebuild and a
/// reconciliation compute the very hashes the live projection did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a>(Option<&'a IndexKeys>);

impl<'a> Keys<'a> {
    pub fn new(keys: Option<&'a IndexKeys>) -> Self {
        Self(keys)
    }

    /// The blind index of `value` (in its canonical form) under `label` in
    /// `event`'s tenant; `None` without a keyring (a reader that opens
    /// nothing has no personal values to index either).
    pub fn blind_index(
        &self,
        event: &RecordedEvent,
        label: &str,
        value: &str,
    ) -> Result<Option<String>, ApplyError> {
        let Some(keys) = self.0 else {
            return Ok(None);
        };
        keys.blind_index(event.tenant_id.as_uuid(), label, value)
            .map(Some)
            .ok_or_else(|| ApplyError::event(event, "its tenant's index key was not fetched"))
    }
}

/// The index keys of the tenants of `events`, fetched with `keyring` (none
/// without one); called before the batch's transaction takes a connection.
pub async fn index_keys(
    keyring: Option<&Keyring>,
    events: &[RecordedEvent],
) -> Result<Option<IndexKeys>, crate::Error> {
    let Some(keyring) = keyring else {
        return Ok(None);
    };
    let tenants: std::collections::BTreeSet<_> =
        events.iter().map(|e| e.tenant_id.as_uuid()).collect();
    let keys = keyring
        .index_keys(tenants)
        .await
        .map_err(deedlog_eventstore::Error::from)?;
    Ok(Some(keys))
}
