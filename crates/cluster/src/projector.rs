//! The projector as a part of the cluster: its own pool (as the owner of
//! the read models), a log reader, and every projection.

use anyhow::Context;
use deedlog_eventstore::{ConnectOptions, LogReader, SubscriptionOptions, Upcasters};
use deedlog_projector::{Runner, RunnerOptions};
use deedlog_runtime::settings::Settings;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;

/// A built projector, ready to run.
#[derive(Debug)]
pub struct ProjectorPart {
    pub runner: Runner,
}

impl ProjectorPart {
    pub async fn build(
        settings: &Settings,
        connect: &ConnectOptions,
        upcasters: Arc<Upcasters>,
    ) -> anyhow::Result<Self> {
        let pool = read_model_pool(settings, connect).await?;
        let reader = LogReader::connect(connect, upcasters)
            .await
            .context("connect the projector to the log")?;
        let options = runner_options(settings);
        let runner = Runner::new(deedlog_projector::projections::all(), pool, reader, options);
        runner
            .prepare()
            .await
            .context("prepare the read-model schemas")?;
        Ok(Self { runner })
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
