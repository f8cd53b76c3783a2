//! The topic: checked (and created when allowed) before anything is sent
//! or consumed, so that a wrong broker address or a missing topic stops
//! start-up with a clear message instead of retrying in the background.

use crate::config;
use crate::error::Error;
use deedlog_runtime::settings::KafkaSettings;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaRespErr;
use std::sync::Arc;

/// Makes sure `kafka.topic` exists with `kafka.partitions` partitions;
/// returns its partition count.
pub async fn ensure(settings: &KafkaSettings) -> Result<i32, Error> {
    let admin: Arc<AdminClient<DefaultClientContext>> = Arc::new(
        config::base(settings)
            .create()
            .map_err(|source| Error::Config {
                side: "client",
                source,
            })?,
    );
    if let Some(count) = partitions(settings, &admin).await? {
        return check_count(settings, count);
    }
    if !settings.create_topic {
        return Err(Error::MissingTopic {
            topic: settings.topic.clone(),
        });
    }
    let topic = NewTopic::new(
        &settings.topic,
        settings.partitions as i32,
        TopicReplication::Fixed(settings.replication_factor as i32),
    );
    let options = AdminOptions::new().operation_timeout(Some(settings.startup_timeout()));
    let results =
        admin
            .create_topics([&topic], &options)
            .await
            .map_err(|e| Error::CreateTopic {
                topic: settings.topic.clone(),
                reason: e.to_string(),
            })?;
    for result in results {
        match result {
            Ok(_) => {
                tracing::info!(topic = %settings.topic, partitions = settings.partitions, "created the Kafka topic")
            }
            // Another process created it meanwhile.
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(Error::CreateTopic {
                    topic: settings.topic.clone(),
                    reason: code.to_string(),
                })
            }
        }
    }
    // The broker may take a moment to serve the new topic's metadata.
    for _ in 0..50 {
        if let Some(count) = partitions(settings, &admin).await? {
            return check_count(settings, count);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(Error::CreateTopic {
        topic: settings.topic.clone(),
        reason: "created, but the broker does not list it".into(),
    })
}

fn check_count(settings: &KafkaSettings, count: usize) -> Result<i32, Error> {
    if count != settings.partitions as usize {
        return Err(Error::PartitionCount {
            topic: settings.topic.clone(),
            expected: settings.partitions,
            actual: count,
        });
    }
    Ok(count as i32)
}

/// The topic's partition count, or None when the broker does not know it.
async fn partitions(
    settings: &KafkaSettings,
    admin: &Arc<AdminClient<DefaultClientContext>>,
) -> Result<Option<usize>, Error> {
    let timeout = settings.startup_timeout();
    let topic = settings.topic.clone();
    let admin = admin.clone();
    // librdkafka blocks for the metadata request: off the async threads.
    let found = tokio::task::spawn_blocking(move || {
        let metadata = admin.inner().fetch_metadata(Some(&topic), timeout)?;
        Ok::<_, rdkafka::error::KafkaError>(
            metadata
                .topics()
                .iter()
                .find(|t| t.name() == topic)
                .map(|t| (t.error(), t.partitions().len())),
        )
    })
    .await;
    let unreachable = |reason: String| Error::Unreachable {
        brokers: settings.brokers.clone(),
        reason,
    };
    let found = found
        .map_err(|e| unreachable(e.to_string()))?
        .map_err(|e| unreachable(e.to_string()))?;
    match found {
        None => Ok(None),
        Some((None, 0)) => Ok(None),
        Some((None, count)) => Ok(Some(count)),
        Some((Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), _))
        | Some((Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC), _))
        | Some((Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE), _)) => Ok(None),
        Some((Some(other), _)) => Err(unreachable(format!(
            "topic metadata: {}",
            rdkafka::types::RDKafkaErrorCode::from(other)
        ))),
    }
}
