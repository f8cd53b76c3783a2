//! Settings of the scale-out path: the broker, the topic, the relay and the
//! consumer group. Kafka is off while `kafka.brokers` is empty.

use super::{check_listen, check_ranges, Error};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSettings {
    /// `host:port[,host:port…]`; empty: no Kafka (the PostgreSQL log only).
    pub brokers: String,
    /// The topic every event is published to.
    pub topic: String,
    /// Partitions of the topic when deedlog creates it; the projector group
    /// scales up to this many processes. Fixed once created: a tenant's
    /// partition follows from it (ADR 0014).
    pub partitions: u32,
    pub replication_factor: u32,
    /// Create the topic at start-up when it is missing; when false a missing
    /// topic stops start-up.
    pub create_topic: bool,
    pub client_id: String,
    /// The consumer group of the projectors.
    pub group_id: String,
    /// The relay's name: its progress is stored under it.
    pub relay_name: String,
    /// Events sent to the broker and not yet acknowledged, at most.
    pub max_in_flight: u32,
    /// How often the relay stores the acknowledged position.
    pub progress_interval_ms: u64,
    /// How often the relay tells every partition how far the log is
    /// published, while events flow (projectors' checkpoints follow it).
    pub watermark_interval_ms: u64,
    /// How long a start-up check waits for the broker.
    pub startup_timeout_ms: u64,
    /// Where the relay serves `/metrics` (Prometheus text); empty: nowhere.
    pub relay_metrics_listen: String,
    /// Extra librdkafka producer properties (e.g. `"linger.ms" = "10"`).
    pub producer: BTreeMap<String, String>,
    /// Extra librdkafka consumer properties.
    pub consumer: BTreeMap<String, String>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            topic: "deedlog.events".into(),
            partitions: 12,
            replication_factor: 1,
            create_topic: true,
            client_id: "deedlog".into(),
            group_id: "deedlog-projectors".into(),
            relay_name: "default".into(),
            max_in_flight: 100_000,
            progress_interval_ms: 100,
            watermark_interval_ms: 100,
            startup_timeout_ms: 10_000,
            relay_metrics_listen: "127.0.0.1:9464".into(),
            producer: BTreeMap::new(),
            consumer: BTreeMap::new(),
        }
    }
}

impl KafkaSettings {
    /// Whether Kafka is configured at all.
    pub fn enabled(&self) -> bool {
        !self.brokers.trim().is_empty()
    }

    pub fn progress_interval(&self) -> Duration {
        Duration::from_millis(self.progress_interval_ms)
    }

    pub fn watermark_interval(&self) -> Duration {
        Duration::from_millis(self.watermark_interval_ms)
    }

    pub fn startup_timeout(&self) -> Duration {
        Duration::from_millis(self.startup_timeout_ms)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.enabled() {
            for broker in self.brokers.split(',') {
                let ok = broker
                    .trim()
                    .rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
                if !ok {
                    return Err(Error::Invalid {
                        key: "kafka.brokers",
                        value: format!("{:?}", self.brokers),
                        allowed: "host:port pairs separated by commas, e.g. 127.0.0.1:9092",
                    });
                }
            }
        }
        check_listen("kafka.relay_metrics_listen", &self.relay_metrics_listen)?;
        check_name("kafka.topic", &self.topic)?;
        check_name("kafka.group_id", &self.group_id)?;
        check_name("kafka.client_id", &self.client_id)?;
        check_name("kafka.relay_name", &self.relay_name)?;
        check_ranges(&[
            ("kafka.partitions", self.partitions.into(), 1, 10_000),
            (
                "kafka.replication_factor",
                self.replication_factor.into(),
                1,
                32,
            ),
            (
                "kafka.max_in_flight",
                self.max_in_flight.into(),
                1,
                1_000_000,
            ),
            (
                "kafka.progress_interval_ms",
                self.progress_interval_ms,
                1,
                60_000,
            ),
            (
                "kafka.watermark_interval_ms",
                self.watermark_interval_ms,
                10,
                60_000,
            ),
            (
                "kafka.startup_timeout_ms",
                self.startup_timeout_ms,
                100,
                600_000,
            ),
        ])?;
        // The relay's guarantees rest on these; refuse a file that turns them off.
        for (key, value) in &self.producer {
            let refused = match key.as_str() {
                "enable.idempotence" => value != "true",
                "acks" | "request.required.acks" => !matches!(value.as_str(), "all" | "-1"),
                _ => false,
            };
            if refused {
                return Err(Error::Invalid {
                    key: "kafka.producer",
                    value: format!("{key} = {value:?}"),
                    allowed: "any librdkafka producer property, but the relay keeps enable.idempotence = true and acks = all",
                });
            }
        }
        Ok(())
    }
}

/// Topic, group and client names: Kafka's legal characters.
fn check_name(key: &'static str, value: &str) -> Result<(), Error> {
    let valid = !value.is_empty()
        && value.len() <= 249
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        return Ok(());
    }
    Err(Error::Invalid {
        key,
        value: format!("{value:?}"),
        allowed: "1 to 249 characters: letters, digits, '.', '_' and '-'",
    })
}
