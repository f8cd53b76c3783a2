//! The relay role: publishes the log to Kafka, with its own `/metrics`.

use crate::metrics;
use anyhow::Context;
use deedlog_eventstore::LogReader;
use deedlog_kafka::{Relay, RelayOptions, RelayStats};
use deedlog_runtime::settings::Settings;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The relay, checked against the broker, and its metrics listener.
pub struct RelayPart {
    relay: Relay,
    metrics: Option<TcpListener>,
}

impl std::fmt::Debug for RelayPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayPart").finish_non_exhaustive()
    }
}

impl RelayPart {
    pub async fn build(settings: &Settings, reader: LogReader) -> anyhow::Result<Self> {
        let options = RelayOptions {
            backoff_min: settings.projector.backoff_min(),
            backoff_max: settings.projector.backoff_max(),
            lease_interval: settings.projector.lease_interval(),
            ..RelayOptions::default()
        };
        let relay = Relay::start(reader, settings.kafka.clone(), options)
            .await
            .context("start the relay")?;
        let metrics = metrics::bind(&settings.kafka.relay_metrics_listen, "relay").await?;
        Ok(Self { relay, metrics })
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        self.relay.stats()
    }

    /// Spawns the relay, and its `/metrics` when it has a listener, into
    /// `tasks`; they run until `shutdown`.
    pub fn spawn(self, tasks: &mut JoinSet<anyhow::Result<()>>, shutdown: &CancellationToken) {
        if let Some(listener) = self.metrics {
            let stats = self.relay.stats();
            let render: metrics::Render = Arc::new(move || {
                let stats = stats.clone();
                Box::pin(async move { stats.render() })
            });
            tasks.spawn(metrics::serve(listener, render, shutdown.clone()));
        }
        let (relay, shutdown) = (self.relay, shutdown.clone());
        tasks.spawn(async move {
            relay.run_until_stopped(shutdown).await;
            Ok(())
        });
    }
}
