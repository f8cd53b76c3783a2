//! The database as the roles use it: migrated when asked, and one pool
//! per kind of connection, sized by the budget and shared by the roles.

use crate::budget::Budget;
use anyhow::Context;
use deedlog_eventstore::{ConnectOptions, EventStore, GroupCommit, LogReader, Upcasters};
use deedlog_runtime::settings::Settings;
use deedlog_service::Executor;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use std::sync::Arc;

/// The pools this process's roles need (none where the budget gives none).
pub(crate) struct Pools {
    /// Appends of the command services.
    pub executor: Option<Executor>,
    /// Reads of every tenant's log.
    pub reader: Option<LogReader>,
    /// The read models, as their owner.
    pub owner: Option<sqlx::PgPool>,
}

impl Pools {
    pub async fn connect(settings: &Settings, budget: &Budget) -> anyhow::Result<Self> {
        let connect = connect_options(settings)?;
        let sized = |max_connections| ConnectOptions {
            max_connections,
            ..connect.clone()
        };
        let upcasters = Arc::new(Upcasters::new());
        let executor = if budget.app > 0 {
            // Each group-commit batcher takes a connection out of the pool
            // for good: the pool keeps the rest of the budget, at least one.
            let batchers = if settings.services.group_commit_batch > 1 {
                let wanted = u32::try_from(settings.services.group_commit_in_flight);
                wanted.unwrap_or(u32::MAX).min(budget.app - 1)
            } else {
                0
            };
            let store = EventStore::connect(&sized(budget.app - batchers), upcasters.clone())
                .await
                .with_context(|| settings.at_database("connect to the event log"))?;
            let keyring = crate::privacy::keyring(settings, store.app_pool().clone()).await?;
            let store = store.with_keyring(keyring);
            let store = match batchers {
                0 => store,
                in_flight => store.with_group_commit(GroupCommit {
                    max_batch: settings.services.group_commit_batch,
                    in_flight: in_flight as usize, // at most 16, by the settings' check
                }),
            };
            Some(Executor::new(
                store,
                settings.services.conflict_retries,
                settings.services.state_cache_records,
            ))
        } else {
            None
        };
        let reader = if budget.reader > 0 {
            let reader = LogReader::connect(&sized(budget.reader), upcasters.clone())
                .await
                .with_context(|| {
                    format!(
                        "connect to the event log at {} as its reader",
                        settings.redacted_database_url()
                    )
                })?;
            let keyring = crate::privacy::keyring(settings, reader.pool().clone()).await?;
            Some(reader.with_keyring(keyring))
        } else {
            None
        };
        let owner = if budget.owner > 0 {
            Some(read_model_pool(settings, &sized(budget.owner)).await?)
        } else {
            None
        };
        Ok(Self {
            executor,
            reader,
            owner,
        })
    }
}

/// Creates the database if it is missing and migrates the log and the read models.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database.url.expose_secret();
    let options: PgConnectOptions = url.parse().context("parse database.url")?;
    deedlog_eventstore::ensure_database(&options)
        .await
        .with_context(|| settings.at_database("prepare the database"))?;
    deedlog_eventstore::migrate(&options)
        .await
        .context("migrate the event log")?;
    deedlog_projector::migrate::migrate(&options)
        .await
        .context("migrate the read models")?;
    Ok(())
}

/// How to reach the log, as the settings say.
pub fn connect_options(settings: &Settings) -> anyhow::Result<ConnectOptions> {
    let mut connect = ConnectOptions::from_url(settings.database.url.expose_secret())?;
    connect.max_connections = settings.database.max_connections;
    connect.acquire_timeout = settings.database.acquire_timeout();
    connect.app_role = settings.database.app_role.clone();
    connect.reader_role = settings.database.reader_role.clone();
    Ok(connect)
}

/// A pool on the read models as the connecting (owning) user, sized by
/// `connect.max_connections`: projectors write every tenant's rows and
/// create schemas; the gateway reads in a tenant's scope.
pub async fn read_model_pool(
    settings: &Settings,
    connect: &ConnectOptions,
) -> anyhow::Result<sqlx::PgPool> {
    connect
        .pool_options(connect.max_connections)
        .connect_with(connect.connect.clone())
        .await
        .with_context(|| settings.at_database("connect to the read models"))
}

/// A reader of every tenant's log for an operator command (audit, rebuild,
/// export), opening personal fields with this process's keyring.
pub async fn log_reader(settings: &Settings) -> anyhow::Result<LogReader> {
    let reader = LogReader::connect(&connect_options(settings)?, Arc::new(Upcasters::new()))
        .await
        .with_context(|| settings.at_database("connect to the event log as its reader"))?;
    let keyring = crate::privacy::keyring(settings, reader.pool().clone()).await?;
    Ok(reader.with_keyring(keyring))
}
