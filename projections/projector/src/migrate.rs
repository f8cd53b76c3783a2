//! The read models' own migrator: operational tables in schema
//! `deedlog_read`, with their migration history there too, apart from the
//! log's.

use crate::error::Error;
use deedlog_kernel::number::fit;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Migrations of `deedlog_read`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/read");

/// The schema of the projectors' operational tables.
pub const OPERATIONS_SCHEMA: &str = "deedlog_read";

/// Applies pending read-model migrations; returns how many ran.
pub async fn migrate(options: &PgConnectOptions) -> Result<usize, Error> {
    let context = "migrate the read models";
    let mut conn = options.connect().await.map_err(Error::db(context))?;
    crate::schema::script(
        &mut conn,
        &format!(
            "CREATE SCHEMA IF NOT EXISTS {OPERATIONS_SCHEMA}; SET search_path TO {OPERATIONS_SCHEMA}"
        ),
    )
    .await
    .map_err(Error::db(context))?;
    // The first migration creates these roles with IF NOT EXISTS, which
    // races when several databases migrate at once on a fresh server (the
    // tests do): create them first, tolerating a concurrent creator.
    crate::schema::script(
        &mut conn,
        "DO $$ BEGIN CREATE ROLE deedlog_app NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         DO $$ BEGIN CREATE ROLE deedlog_analyst NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
    )
    .await
    .map_err(Error::db(context))?;
    let before = applied(&mut conn).await;
    MIGRATOR.run(&mut conn).await.map_err(|e| Error::Database {
        context,
        source: e.into(),
    })?;
    let after = applied(&mut conn).await;
    let _ = conn.close().await;
    Ok(fit("count of migrations applied", after - before)?)
}

async fn applied(conn: &mut sqlx::PgConnection) -> i64 {
    // The history table is absent before the first migration: none applied.
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(conn)
        .await
        .unwrap_or(0)
}
