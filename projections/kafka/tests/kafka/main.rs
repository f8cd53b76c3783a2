//! The scale-out path against a real Kafka-protocol broker (tansu, over
//! TCP on 127.0.0.1) and real PostgreSQL databases.

#[path = "../../../../tests/src/kafka_broker.rs"]
mod broker;
mod group;
mod relay;
mod support;
mod topic_reader;
