//! Projector tests against a real PostgreSQL: exactly once in effect,
//! workers and leases, dead letters, rebuild, reconciliation, tenant
//! isolation, and the properties read model.

mod communications_model;
mod docs;
mod faults;
mod lifecycle;
mod operations;
mod properties_model;
mod security;
mod support;
