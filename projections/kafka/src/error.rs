//! What can go wrong on the scale-out path, worded for the operator.

use rdkafka::error::KafkaError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A property librdkafka refuses (unknown name or bad value).
    #[error("invalid Kafka {side} setting: {source} (check kafka.{side} in the settings)")]
    Config {
        side: &'static str,
        #[source]
        source: KafkaError,
    },
    #[error("cannot reach the Kafka brokers at {brokers}: {reason}")]
    Unreachable { brokers: String, reason: String },
    #[error("the Kafka topic {topic:?} does not exist and kafka.create_topic is false; create it or allow deedlog to")]
    MissingTopic { topic: String },
    #[error("the Kafka topic {topic:?} has {actual} partitions where kafka.partitions says {expected}; a tenant's partition follows from the count, so they must agree")]
    PartitionCount {
        topic: String,
        expected: u32,
        actual: usize,
    },
    #[error("create the Kafka topic {topic:?}: {reason}")]
    CreateTopic { topic: String, reason: String },
    #[error("Kafka: {context}: {source}")]
    Kafka {
        context: &'static str,
        #[source]
        source: KafkaError,
    },
    #[error("a message on partition {partition} at offset {offset}: {reason}")]
    Message {
        partition: i32,
        offset: i64,
        reason: String,
    },
    #[error(transparent)]
    Log(#[from] deedlog_eventstore::Error),
    /// The projector's failures, and the database's on the read models'
    /// side (one `Database` error for both).
    #[error(transparent)]
    Projector(#[from] deedlog_projector::Error),
    /// A position read from or written to the log's database does not fit its type.
    #[error(transparent)]
    Overflow(#[from] deedlog_kernel::Overflow),
}

impl Error {
    pub(crate) fn kafka(context: &'static str) -> impl FnOnce(KafkaError) -> Self {
        move |source| Error::Kafka { context, source }
    }

    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| deedlog_projector::Error::db(context)(source).into()
    }
}
