//! librdkafka client configurations from the settings: deedlog's defaults
//! first, then the operator's `kafka.producer` / `kafka.consumer` entries.

use crate::error::Error;
use deedlog_runtime::settings::KafkaSettings;
use rdkafka::config::{ClientConfig, FromClientConfig};
use std::collections::BTreeMap;

/// The producer the relay publishes with.
pub fn producer<T: FromClientConfig>(settings: &KafkaSettings) -> Result<T, Error> {
    let mut config = layered(
        settings,
        [
            // Many small events: let them batch for a few milliseconds.
            ("linger.ms", "5"),
            ("batch.num.messages", "10000"),
            ("queue.buffering.max.messages", "1000000"),
            ("message.timeout.ms", "30000"),
        ],
        &settings.producer,
    );
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
    layered(
        settings,
        [
            ("group.id", settings.group_id.as_str()),
            // Where to start is the read models' business: their stored offsets
            // decide (the consumer seeks to them); Kafka's committed offsets are
            // kept for monitoring tools only.
            ("enable.auto.commit", "true"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
            // A fetch with nothing new returns after this long: the default
            // (500 ms) would be the projectors' lag when events trickle in.
            ("fetch.wait.max.ms", "10"),
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "1000"),
        ],
        &settings.consumer,
    )
}

/// A client of one side: the shared [`base`], deedlog's `defaults` for that
/// side, then the operator's `entries` for it, which override the defaults.
fn layered<'a>(
    settings: &KafkaSettings,
    defaults: impl IntoIterator<Item = (&'a str, &'a str)>,
    entries: &'a BTreeMap<String, String>,
) -> ClientConfig {
    let mut config = base(settings);
    let entries = entries.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (key, value) in defaults.into_iter().chain(entries) {
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
