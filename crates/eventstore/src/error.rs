//! Everything the event store can refuse or fail at, each with a message a
//! person can act on.

use crate::event::ExpectedVersion;
use deedlog_kernel::{CommandId, NameError, Overflow, StreamId, TenantId};

/// An event store error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("an append may hold at most {limit} events; this one has {count}")]
    TooManyEvents { count: usize, limit: usize },
    #[error(
        "event #{index} ({event_type}) has a payload of {size} bytes; the limit is {limit} bytes"
    )]
    PayloadTooLarge {
        index: usize,
        event_type: String,
        size: usize,
        limit: usize,
    },
    #[error("event #{index} ({event_type}) must have a JSON object as payload")]
    PayloadNotObject { index: usize, event_type: String },
    #[error("{what} {name:?} {reason}")]
    InvalidName {
        what: &'static str,
        name: String,
        reason: NameError,
    },
    #[error(
        "event #{index} ({event_type}) has schema version {version}; versions run from 1 to {}",
        i32::MAX
    )]
    InvalidSchemaVersion {
        index: usize,
        event_type: String,
        version: u32,
    },
    #[error("an append must name its actor (the acting user or system)")]
    MissingActor,
    #[error("actor is {len} characters long; at most {limit} are allowed")]
    ActorTooLong { len: usize, limit: usize },
    #[error(
        "trace context {traceparent:?} is not a W3C traceparent (vv-<32 hex>-<16 hex>-<2 hex>)"
    )]
    InvalidTraceContext { traceparent: String },
    #[error("stream {stream} would pass the largest version ({max}) with {adding} more events at version {version}")]
    VersionOverflow {
        stream: StreamId,
        version: u64,
        adding: usize,
        max: u64,
    },
    #[error("tenant {tenant} is not registered in the event log")]
    UnknownTenant { tenant: TenantId },
    #[error("version conflict on stream {stream}: expected {expected}, but the stream is at version {actual}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("stream {stream} does not exist in tenant {tenant}")]
    StreamNotInTenant { stream: StreamId, tenant: TenantId },
    #[error("stream {stream} holds {existing} events; cannot append {given} events to it")]
    StreamTypeMismatch {
        stream: StreamId,
        existing: String,
        given: String,
    },
    #[error("command id {command_id} was already used for another stream")]
    CommandIdReused { command_id: CommandId },
    #[error("command id {command_id} was already used with a different request")]
    CommandMismatch { command_id: CommandId },
    #[error("cannot upcast {event_type} v{from}: {reason}")]
    Upcast {
        event_type: String,
        from: u32,
        reason: String,
    },
    #[error("the event log database is unreachable ({context}): {source}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the event log database failed to {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored event at position {position} is malformed: {reason}")]
    Corrupt { position: i64, reason: String },
    /// A number read from or written to the log does not fit its type.
    #[error(transparent)]
    Overflow(#[from] Overflow),
    /// A sealed personal field that does not open, or the key table failing.
    #[error(transparent)]
    Privacy(#[from] deedlog_privacy::Error),
}

impl Error {
    /// Wraps a database error, telling connection trouble from everything else.
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| {
            if is_connection_error(&source) {
                Error::Unavailable { context, source }
            } else {
                Error::Database { context, source }
            }
        }
    }

    /// True when retrying later may succeed (the database was unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }
}

/// Is this the kind of failure that clears when the database comes back?
pub(crate) fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        // The server closed the stream mid-handshake or mid-message.
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            // Class 08: connection exception; 57P01-03: admin shutdown, crash, cannot connect now.
            db.code().is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
            })
        }
        _ => false,
    }
}

/// The SQLSTATE of a database error, if it is one.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
        _ => None,
    }
}
