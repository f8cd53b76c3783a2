//! deedlog's read models as the API reads them: the row types of the
//! `rm_*` tables the projector builds (`docs/read-models.md`) and the
//! queries on them.
//!
//! Every query runs on the connection of a [`TenantScope`]: a read-only
//! transaction as `deedlog_app` with one tenant bound, so row-level
//! security limits every statement to that tenant's rows. The queries add no
//! `tenant_id` predicate of their own; the policy is the one guard.
//!
//! [`audit`] reads the event log's own `events` table the same way (its
//! policy binds the same setting), for the audit history.
//!
//! This crate links neither the event store nor any domain crate: the
//! GraphQL gateway depends on it alone for reads.

mod error;
mod int64;
mod list;
mod page;
pub mod row;
mod scope;
mod where_clause;

pub mod analytics;
pub mod audit;
pub mod communications;
pub mod deal_list;
pub mod deals;
pub mod export;
pub mod freshness;
pub mod inbox;
pub mod notifications;
pub mod properties;
pub mod seal_proof;
pub mod tenancy;
pub mod timeline;

pub use error::Error;
pub use freshness::{freshness, wait_for, Change, Projection, CHANGES_CHANNEL};
pub use int64::{Int64, Int64Error, INT64_DESCRIPTION};
pub use page::{Connection, Direction, Edge, Page, PageInfo, MAX_FIRST};
pub use scope::TenantScope;
