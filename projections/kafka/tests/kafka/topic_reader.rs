//! Reads a whole topic from the beginning with a plain consumer, as an
//! outside system would.

use deedlog_kafka::format;
use deedlog_runtime::settings::KafkaSettings;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeSet;
use std::time::Duration;

/// One message as read.
#[derive(Debug, Clone)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub position: u64,
}

/// Every message of the topic until all of `expected` were seen.
pub async fn read_until(settings: &KafkaSettings, expected: &BTreeSet<u64>) -> Vec<Read> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("group.id", format!("{}-reader", settings.group_id))
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    let mut partitions = TopicPartitionList::new();
    for p in 0..settings.partitions as i32 {
        partitions
            .add_partition_offset(&settings.topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&partitions).expect("assign");
    let mut seen = BTreeSet::new();
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !expected.is_subset(&seen) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out reading the topic: {} of {} positions seen, first missing {:?}",
                    seen.len(),
                    expected.len(),
                    expected.difference(&seen).next()
                )
            })
            .expect("receive");
        if format::watermark_header(message.headers()).is_some() {
            assert!(
                message.payload().is_none() && message.key().is_none(),
                "a bare watermark"
            );
            continue;
        }
        let position = format::position_header(message.headers()).expect("position header");
        let event = format::decode(message.payload().expect("value")).expect("an event");
        assert_eq!(event.position, position, "header and value agree");
        let key = std::str::from_utf8(message.key().expect("key"))
            .expect("utf-8")
            .to_owned();
        assert_eq!(key, event.stream_id.to_string(), "keyed by record");
        assert_eq!(
            message.partition(),
            format::partition_of(event.tenant_id, settings.partitions as i32),
            "partitioned by tenant"
        );
        seen.insert(position);
        read.push(Read {
            partition: message.partition(),
            offset: message.offset(),
            key,
            position,
        });
    }
    read
}
