//! deedlog's system of record: an append-only event log in PostgreSQL.
//!
//! * [`EventStore`]: application access, bound to one tenant per
//!   transaction (row-level security): append with optimistic concurrency
//!   and idempotency, read a stream (up to a version or an instant).
//! * [`LogReader`]: the explicit privileged path for projectors and auditors:
//!   read every tenant's events in position order, or [`Subscription`] to
//!   them, never skipping an event whose transaction commits late.
//! * [`Upcasters`]: old schema versions are transformed when read; stored
//!   events are never rewritten (the database refuses UPDATE and DELETE).

pub mod append;
pub mod commands;
mod copy;
pub mod error;
pub mod event;
pub mod gap;
pub mod group_commit;
pub mod limits;
pub mod migrate;
pub mod notify;
pub mod read;
pub mod store;
pub mod subscription;
pub mod upcast;

pub use append::{AppendOutcome, AppendRequest};
pub use commands::HandledCommand;
pub use error::Error;
pub use event::{ExpectedVersion, NewEvent, RecordedEvent};
pub use group_commit::GroupCommit;
pub use migrate::{ensure_database, migrate, MIGRATOR};
pub use read::{StreamQuery, Until};
pub use store::{ConnectOptions, EventStore, LogReader};
pub use subscription::{Subscription, SubscriptionOptions};
pub use upcast::Upcasters;
