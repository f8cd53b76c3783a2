//! librdkafka client configurations from the settings: deedlog's defaults
//! first, then the operator's `kafka.producer` / `kafka.consumer` entries.

use crate::error::Error;
use deedlog_runtime::settings::KafkaSettings;
use rdkafka::config::{ClientConfig, FromClientConfig};

/// The producer the relay publishes with.
pub fn producer<T: FromClientConfig>(settings: &KafkaSettings) -> Result<T, Error> {
    let mut config = base(settings);
    config
        // Many small events: let them batch for a few milliseconds.
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .set("message.timeout.ms", "30000");
    for (key, value) in &settings.producer {
        config.set(key, value);
    }
    // Exactly one copy per send, in order per partition, even when
    // librdkafka retries: set last, so the operator's entries cannot undo it.
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .map_err(|source| Error::Config {
            side: "producer",
            source,
        })
}

/// The consumer configuration of the projector group.
pub fn consumer_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = base(settings);
    config
        .set("group.id", &settings.group_id)
        // Where to start is the read models' business: their stored offsets
        // decide (the consumer seeks to them); Kafka's committed offsets are
        // kept for monitoring tools only.
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // A fetch with nothing new returns after this long: the default
        // (500 ms) would be the projectors' lag when events trickle in.
        .set("fetch.wait.max.ms", "10")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    for (key, value) in &settings.consumer {
        config.set(key, value);
    }
    config
}

/// Settings every client shares.
pub fn base(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", &settings.client_id)
        // Fail a start-up check in time instead of retrying for ever.
        .set(
            "socket.connection.setup.timeout.ms",
            settings.startup_timeout_ms.to_string(),
        )
        .set("log_level", "4");
    config
}
