//! The projector role: its own pool (as the owner of the read models), a
//! log reader, and every projection.

use crate::metrics;
use anyhow::Context;
use deedlog_eventstore::{LogReader, SubscriptionOptions};
use deedlog_kafka::{ConsumerOptions, KafkaProjector};
use deedlog_projector::verify::Verifier;
use deedlog_projector::{Runner, RunnerOptions, Stats};
use deedlog_runtime::settings::{ProjectorSource, Settings};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A built projector, ready to run: on the log itself, or a member of the
/// Kafka consumer group; with its metrics listener.
pub struct ProjectorPart {
    source: Source,
    metrics: Option<TcpListener>,
    pool: sqlx::PgPool,
    /// The log, for lag metrics (absent when the projector reads Kafka).
    reader: Option<LogReader>,
    /// Background verification, when `projector.verify_interval_s` is set.
    verifier: Option<Verifier>,
}

impl std::fmt::Debug for ProjectorPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectorPart").finish_non_exhaustive()
    }
}

enum Source {
    Log(Runner),
    Kafka(KafkaProjector),
}

impl ProjectorPart {
    /// `reader` is needed unless the projector reads Kafka.
    pub async fn build(
        settings: &Settings,
        pool: sqlx::PgPool,
        reader: Option<LogReader>,
    ) -> anyhow::Result<Self> {
        let projections = deedlog_projector::projections::all();
        let metrics = metrics::bind(&settings.projector.metrics_listen, "projector").await?;
        if settings.projector.source == ProjectorSource::Kafka {
            let options = ConsumerOptions {
                batch_size: settings.projector.batch_size as usize,
                linger: settings.projector.linger(),
                backoff_min: settings.projector.backoff_min(),
                backoff_max: settings.projector.backoff_max(),
                keyring: Some(crate::privacy::keyring(settings, pool.clone()).await?),
            };
            let projector =
                KafkaProjector::start(projections, pool.clone(), settings.kafka.clone(), options)
                    .await
                    .context("start the projector on Kafka")?;
            return Ok(Self {
                source: Source::Kafka(projector),
                metrics,
                pool,
                reader: None,
                verifier: None,
            });
        }
        let reader = reader.context("the projector on the log has a log reader")?;
        let options = runner_options(settings);
        let runner = Runner::new(projections, pool.clone(), reader.clone(), options);
        runner
            .prepare()
            .await
            .context("prepare the read-model schemas")?;
        let verifier = settings
            .projector
            .verify_interval()
            .map(|interval| Verifier {
                projections: deedlog_projector::projections::all(),
                pool: pool.clone(),
                reader: reader.clone(),
                interval,
                batch_size: settings.projector.rebuild_batch_size,
                stats: runner.stats().clone(),
            });
        Ok(Self {
            source: Source::Log(runner),
            metrics,
            pool,
            reader: Some(reader),
            verifier,
        })
    }

    /// Each projection's counters, by name.
    pub fn stats(&self) -> &BTreeMap<&'static str, Arc<Stats>> {
        match &self.source {
            Source::Log(runner) => runner.stats(),
            Source::Kafka(projector) => projector.stats(),
        }
    }

    /// Where the metrics are served, if anywhere.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (stats, pool, reader) = (self.stats().clone(), self.pool.clone(), self.reader.clone());
        let served = self.metrics.map(|listener| {
            let render: metrics::Render = Arc::new(move || {
                let (stats, pool, reader) = (stats.clone(), pool.clone(), reader.clone());
                Box::pin(async move {
                    let lags = match &reader {
                        Some(reader) => {
                            let projections = deedlog_projector::projections::all();
                            deedlog_projector::lag::lag(&pool, reader, &projections)
                                .await
                                .unwrap_or_default()
                        }
                        None => Vec::new(),
                    };
                    deedlog_projector::metrics::render(&stats, &lags)
                })
            });
            tokio::spawn(metrics::serve(listener, render, shutdown.clone()))
        });
        let verifying = self
            .verifier
            .map(|verifier| tokio::spawn(verifier.run_until_stopped(shutdown.clone())));
        match self.source {
            Source::Log(runner) => runner.run_until_stopped(shutdown).await,
            Source::Kafka(projector) => projector.run_until_stopped(shutdown).await,
        }
        if let Some(verifying) = verifying {
            verifying.await.context("the verification task panicked")?;
        }
        if let Some(served) = served {
            served.await.context("the metrics task panicked")??;
        }
        Ok(())
    }
}

/// The projector's settings as the runner takes them.
pub fn runner_options(settings: &Settings) -> RunnerOptions {
    RunnerOptions {
        subscription: SubscriptionOptions {
            batch_size: settings.projector.batch_size,
            poll_interval: settings.subscription.poll_interval(),
        },
        backoff_min: settings.projector.backoff_min(),
        backoff_max: settings.projector.backoff_max(),
        lease_interval: settings.projector.lease_interval(),
        linger: settings.projector.linger(),
    }
}
