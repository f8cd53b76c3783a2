//! The sealer role: seals the log block by block (ADR 0037), with its own
//! `/metrics` (seal lag).

use crate::metrics;
use deedlog_eventstore::LogReader;
use deedlog_runtime::settings::Settings;
use deedlog_sealer::{SealStats, Sealer, SealerOptions};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The sealer with its key, and its metrics listener.
#[derive(Debug)]
pub struct SealerPart {
    sealer: Sealer,
    metrics: Option<TcpListener>,
}

impl SealerPart {
    pub async fn build(settings: &Settings, reader: LogReader) -> anyhow::Result<Self> {
        let key = crate::sealing::key(settings, reader.pool()).await?;
        let options = SealerOptions {
            block_size: settings.sealing.block_size,
            poll_interval: settings.sealing.poll_interval(),
        };
        let metrics = metrics::bind(&settings.sealing.metrics_listen, "sealer").await?;
        Ok(Self {
            sealer: Sealer::new(reader, key, options),
            metrics,
        })
    }

    pub fn stats(&self) -> Arc<SealStats> {
        self.sealer.stats()
    }

    /// Spawns the sealer, and its `/metrics` when it has a listener, into
    /// `tasks`; they run until `shutdown`.
    pub fn spawn(self, tasks: &mut JoinSet<anyhow::Result<()>>, shutdown: &CancellationToken) {
        if let Some(listener) = self.metrics {
            let stats = self.sealer.stats();
            let render: metrics::Render = Arc::new(move || {
                let stats = stats.clone();
                Box::pin(async move { stats.render() })
            });
            tasks.spawn(metrics::serve(listener, render, shutdown.clone()));
        }
        let (sealer, shutdown) = (self.sealer, shutdown.clone());
        tasks.spawn(async move {
            sealer
                .run(async move { shutdown.cancelled().await })
                .await
                .map_err(anyhow::Error::from)
        });
    }
}
