//! Projector tests against a real PostgreSQL: exactly once in effect,
//! workers and leases, dead letters, rebuild, reconciliation, tenant
//! isolation, and each read model.

mod analytics_model;
mod communications_model;
mod deals_model;
mod docs;
mod faults;
mod forgetting;
mod holes;
mod lifecycle;
mod notifications_model;
mod operations;
mod properties_model;
mod rows_keyed;
mod security;
mod support;
mod tenancy_model;
mod timeline_model;
mod verify;
