//! The read-model queries against a real PostgreSQL, on rows the projector
//! built from events appended to the log.

mod audit;
mod ddl;
mod deals;
mod notifications;
mod others;
mod periods;
mod properties;
mod support;
