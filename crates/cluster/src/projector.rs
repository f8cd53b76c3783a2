//! The projector as a part of the cluster: its own pool (as the owner of
//! the read models), a log reader, and every projection.

use anyhow::Context;
use deedlog_eventstore::{ConnectOptions, LogReader, SubscriptionOptions, Upcasters};
use deedlog_kafka::{ConsumerOptions, KafkaProjector, Relay, RelayOptions};
use deedlog_projector::{Runner, RunnerOptions, Stats};
use deedlog_runtime::settings::{ProjectorSource, Settings};
use sqlx::postgres::PgPoolOptions;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A built projector, ready to run: on the log itself, or a member of the
/// Kafka consumer group.
#[derive(Debug)]
pub enum ProjectorPart {
    Log(Runner),
    Kafka(KafkaProjector),
}

impl ProjectorPart {
    pub async fn build(
        settings: &Settings,
        connect: &ConnectOptions,
        upcasters: Arc<Upcasters>,
    ) -> anyhow::Result<Self> {
        let pool = read_model_pool(settings, connect).await?;
        let projections = deedlog_projector::projections::all();
        if settings.projector.source == ProjectorSource::Kafka {
            let options = ConsumerOptions {
                batch_size: settings.projector.batch_size as usize,
                linger: settings.projector.linger(),
                backoff_min: settings.projector.backoff_min(),
                backoff_max: settings.projector.backoff_max(),
            };
            let projector =
                KafkaProjector::start(projections, pool, settings.kafka.clone(), options)
                    .await
                    .context("start the projector on Kafka")?;
            return Ok(Self::Kafka(projector));
        }
        let reader = LogReader::connect(connect, upcasters)
            .await
            .context("connect the projector to the log")?;
        let options = runner_options(settings);
        let runner = Runner::new(projections, pool, reader, options);
        runner
            .prepare()
            .await
            .context("prepare the read-model schemas")?;
        Ok(Self::Log(runner))
    }

    /// Each projection's counters, by name.
    pub fn stats(&self) -> &BTreeMap<&'static str, Arc<Stats>> {
        match self {
            Self::Log(runner) => runner.stats(),
            Self::Kafka(projector) => projector.stats(),
        }
    }

    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        match self {
            Self::Log(runner) => runner.run_until_stopped(shutdown).await,
            Self::Kafka(projector) => projector.run_until_stopped(shutdown).await,
        }
    }
}

/// The relay, checked against the broker, and its metrics listener.
pub async fn relay(
    settings: &Settings,
    connect: &ConnectOptions,
    upcasters: Arc<Upcasters>,
) -> anyhow::Result<(Relay, Option<tokio::net::TcpListener>)> {
    anyhow::ensure!(
        settings.kafka.enabled(),
        "the relay needs kafka.brokers (e.g. DEEDLOG__KAFKA__BROKERS=127.0.0.1:9092)"
    );
    let reader = LogReader::connect(connect, upcasters)
        .await
        .context("connect the relay to the log")?;
    let options = RelayOptions {
        backoff_min: settings.projector.backoff_min(),
        backoff_max: settings.projector.backoff_max(),
        lease_interval: settings.projector.lease_interval(),
        ..RelayOptions::default()
    };
    let relay = Relay::start(reader, settings.kafka.clone(), options)
        .await
        .context("start the relay")?;
    let listen = &settings.kafka.relay_metrics_listen;
    let metrics = if listen.is_empty() {
        None
    } else {
        Some(
            tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("bind the relay's metrics to {listen}"))?,
        )
    };
    Ok((relay, metrics))
}

/// Serves the relay's `/metrics` until shutdown.
pub async fn serve_relay_metrics(
    listener: tokio::net::TcpListener,
    stats: Arc<deedlog_kafka::RelayStats>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let stats = stats.clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    stats.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("serve the relay's metrics")
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

/// A pool on the read models as the connecting (owning) user: projectors
/// write every tenant's rows and create schemas.
pub async fn read_model_pool(
    settings: &Settings,
    connect: &ConnectOptions,
) -> anyhow::Result<sqlx::PgPool> {
    PgPoolOptions::new()
        // One per projection worker, its lease, and a spare.
        .max_connections(settings.database.max_connections.clamp(4, 32))
        .acquire_timeout(settings.database.acquire_timeout())
        .connect_with(connect.connect.clone())
        .await
        .with_context(|| {
            format!(
                "connect to the read models at {}",
                settings.redacted_database_url()
            )
        })
}
