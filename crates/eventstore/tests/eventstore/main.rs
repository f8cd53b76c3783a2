//! Integration tests of the event store against a real PostgreSQL.

mod append;
mod batch;
mod concurrency;
mod interleaving;
mod isolation;
mod limits;
mod outage;
mod properties;
mod proxy;
mod subscription;
mod support;
mod upcasting;
