//! The projector: turns the event log into PostgreSQL read models.
//!
//! * [`Projection`]: one read model — its DDL, its tables and how a batch of
//!   events changes them. The modules under [`projections`] are deedlog's.
//! * [`Projector`]: works one projection, batch by batch, with the
//!   checkpoint in the same transaction as the changes, dead letters for
//!   events it cannot apply, and a lease so that one process at a time
//!   works it ([ADR 0011](../../docs/adr/0011-projection-schemas.md)).
//! * [`rebuild`], [`reconcile`], [`dead_letter`]: what operators run.

pub mod checkpoint;
mod copy_text;
pub mod ddl;
pub mod dead_letter;
pub mod error;
pub mod lag;
pub mod lease;
pub mod metrics;
pub mod migrate;
pub mod partition;
pub mod personal;
pub mod projection;
pub mod projections;
pub mod rebuild;
pub mod reconcile;
pub mod rows;
pub mod runner;
pub mod schema;
pub mod stats;
pub mod tail;
pub mod trace;
pub mod verify;
pub mod worker;

pub use error::Error;
pub use projection::{ApplyError, FailurePolicy, Keys, Projection};
pub use runner::{Runner, RunnerOptions};
pub use stats::Stats;
pub use worker::{Projector, Step};
