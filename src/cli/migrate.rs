//! `deedlog migrate`: creates the database if it is missing and applies
//! the event log's and the read models' migrations.

use anyhow::Context;
use deedlog_runtime::settings::Settings;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;

pub(super) async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let options: PgConnectOptions = settings
        .database
        .url
        .expose_secret()
        .parse()
        .context("parse database.url")?;
    let database = options.get_database().unwrap_or("postgres").to_owned();
    let created = deedlog_eventstore::ensure_database(&options)
        .await
        .with_context(|| settings.at_database(&format!("prepare database {database}")))?;
    let applied = deedlog_eventstore::migrate(&options)
        .await
        .with_context(|| format!("migrate database {database}"))?
        + deedlog_projector::migrate::migrate(&options)
            .await
            .with_context(|| format!("migrate the read models in {database}"))?;
    println!(
        "database {database}: {}; {applied} migration(s) applied",
        if created { "created" } else { "exists" }
    );
    Ok(())
}
