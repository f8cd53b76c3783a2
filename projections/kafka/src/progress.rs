//! The relay's progress in the log's database: the last position the
//! broker acknowledged, stored only after the acknowledgement.

use crate::error::Error;
use deedlog_kernel::number::fit;
use sqlx::PgPool;

/// Where relay `name` stands (0: nothing published yet).
pub async fn load(pool: &PgPool, name: &str) -> Result<u64, Error> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM relay_progress WHERE relay = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read the relay's progress"))?;
    Ok(position.map_or(Ok(0), |p| fit("relay position", p))?)
}

/// Records that everything up to `position` is acknowledged. Never moves
/// back: a stale relay cannot undo a newer one's progress.
pub async fn store(pool: &PgPool, name: &str, position: u64) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO relay_progress (relay, position) VALUES ($1, $2) \
         ON CONFLICT (relay) DO UPDATE \
         SET position = GREATEST(relay_progress.position, EXCLUDED.position), updated_at = now()",
    )
    .bind(name)
    .bind(fit::<_, i64>("relay position", position)?)
    .execute(pool)
    .await
    .map_err(Error::db("store the relay's progress"))?;
    Ok(())
}

/// The last position of the log (0: empty).
pub async fn log_head(pool: &PgPool) -> Result<u64, Error> {
    let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(pool)
        .await
        .map_err(Error::db("read the log's head"))?;
    Ok(head.map_or(Ok(0), |p| fit("log head", p))?)
}
