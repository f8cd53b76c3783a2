//! The test cluster: every command service in-process on port 0 against a
//! fresh database of its own, and clients with helpers to drive it.

pub mod clients;
pub mod cluster;
pub mod contact_export;
pub mod fixtures;
pub mod graphql;
pub mod kafka_broker;
pub mod log;
pub mod otlp;
pub mod person;
pub mod process;
pub mod prometheus;
pub mod report;
pub mod secrets;
pub mod tokens;

pub use clients::{start_connected, start_with_tenant, Clients, Session};
pub use cluster::TestCluster;
pub use graphql::{Answer, Gql};
pub use kafka_broker::Broker;
pub use log::LogCounts;
