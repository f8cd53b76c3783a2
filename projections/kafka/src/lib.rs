//! Scale-out over Kafka (ADR 0014). PostgreSQL stays the system of record;
//! Kafka distributes the log:
//!
//! * [`relay`]: publishes every event of the log to the topic, keyed by
//!   record, partitioned by tenant, at least once, its progress stored after
//!   the broker's acknowledgement;
//! * [`consume`]: the projectors as a consumer group, their offsets kept in
//!   the read models with the changes;
//! * [`format`]: the messages, as outside consumers read them.

pub mod config;
pub mod consume;
pub mod error;
pub mod format;
pub mod progress;
pub mod relay;
pub mod topic;

pub use consume::{ConsumerOptions, KafkaProjector};
pub use error::Error;
pub use relay::{Relay, RelayOptions, RelayStats};
