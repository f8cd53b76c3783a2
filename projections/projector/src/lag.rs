//! How far each projection is behind the log, in positions and seconds.

use crate::checkpoint;
use crate::dead_letter;
use crate::error::Error;
use crate::projection::Projection;
use crate::rebuild::log_head;
use crate::schema;
use deedlog_eventstore::LogReader;
use deedlog_kernel::number::fit;
use sqlx::PgPool;
use std::sync::Arc;

/// One projection's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    pub projection: &'static str,
    /// None: the live schema does not exist yet.
    pub position: Option<u64>,
    pub head: u64,
    pub behind_positions: u64,
    /// Age of the oldest event not yet applied (0 when caught up).
    pub behind_seconds: f64,
    pub pending_dead_letters: u64,
}

/// The lag of every projection in `projections`.
pub async fn lag(
    pool: &PgPool,
    reader: &LogReader,
    projections: &[Arc<dyn Projection>],
) -> Result<Vec<Lag>, Error> {
    let head = log_head(reader).await?;
    let mut out = Vec::new();
    for projection in projections {
        let live = schema::live(projection.name());
        let mut conn = pool.acquire().await.map_err(Error::db("measure lag"))?;
        let position = if schema::exists(&mut conn, &live).await? {
            Some(checkpoint::read(&mut conn, &live).await?.position)
        } else {
            None
        };
        drop(conn);
        let at = position.unwrap_or(0);
        let behind_seconds = if at < head {
            let oldest: Option<f64> = sqlx::query_scalar(
                "SELECT extract(epoch FROM now() - recorded_at)::float8 FROM events \
                 WHERE position > $1 ORDER BY position LIMIT 1",
            )
            .bind(fit::<_, i64>("checkpoint position", at)?)
            .fetch_optional(reader.pool())
            .await
            .map_err(Error::db("measure lag"))?;
            oldest.unwrap_or(0.0).max(0.0)
        } else {
            0.0
        };
        out.push(Lag {
            projection: projection.name(),
            position,
            head,
            behind_positions: head.saturating_sub(at),
            behind_seconds,
            pending_dead_letters: dead_letter::pending_count(pool, projection.name()).await?,
        });
    }
    Ok(out)
}
