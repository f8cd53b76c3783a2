//! Creating the log's database when missing and applying its migrations.

use crate::error::Error;
use deedlog_kernel::number::fit;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};

/// The event log's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/log");

/// Creates the database named in `options` if it does not exist, connecting
/// to the server's `postgres` database to do so.
pub async fn ensure_database(options: &PgConnectOptions) -> Result<bool, Error> {
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .map_err(Error::db("connect to the postgres database"))?;
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .map_err(Error::db("look up the database"))?
        .is_some();
    if !exists {
        // Identifiers cannot be bound as parameters; the name is quoted.
        let create = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(error) = sqlx::query(&create).execute(&mut admin).await {
            // 42P04: created meanwhile by someone else, which is fine.
            if crate::error::sqlstate(&error).as_deref() != Some("42P04") {
                return Err(Error::db("create the database")(error));
            }
        }
    }
    close(admin).await;
    Ok(!exists)
}

/// Applies pending migrations as the connecting (owner) user; returns how many ran.
pub async fn migrate(options: &PgConnectOptions) -> Result<usize, Error> {
    let mut conn = options
        .connect()
        .await
        .map_err(Error::db("connect to migrate"))?;
    let applied_before = applied(&mut conn).await;
    MIGRATOR.run(&mut conn).await.map_err(|e| Error::Database {
        context: "apply migrations",
        source: e.into(),
    })?;
    let applied_after = applied(&mut conn).await;
    close(conn).await;
    Ok(fit(
        "count of migrations applied",
        applied_after.saturating_sub(applied_before),
    )?)
}

async fn applied(conn: &mut PgConnection) -> i64 {
    // The table is absent before the first migration: that counts as none.
    sqlx::query("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .unwrap_or(0)
}

async fn close(conn: PgConnection) {
    if let Err(error) = conn.close().await {
        tracing::debug!(%error, "close admin connection");
    }
}
