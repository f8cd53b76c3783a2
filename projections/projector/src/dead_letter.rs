//! Events a projection could not apply, kept with their error until an
//! operator replays them (after a fix) or skips them.

use crate::error::Error;
use crate::projection::Projection;
use crate::schema;
use chrono::{DateTime, Utc};
use deedlog_eventstore::{LogReader, RecordedEvent};
use deedlog_kernel::number::fit;
use sqlx::{Acquire, PgConnection, PgPool, Row};
use uuid::Uuid;

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub projection: String,
    pub schema_name: String,
    pub position: u64,
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub event_type: String,
    pub error: String,
    pub failed_at: DateTime<Utc>,
    /// `pending`, `replayed` or `skipped`.
    pub status: String,
}

/// Records that `event` could not be applied to `schema_name`; part of the
/// caller's transaction, which also moves the checkpoint past it.
pub async fn record(
    conn: &mut PgConnection,
    projection: &str,
    schema_name: &str,
    event: &RecordedEvent,
    error: &str,
) -> Result<i64, Error> {
    sqlx::query_scalar(
        "INSERT INTO deedlog_read.dead_letters \
           (projection, schema_name, position, tenant_id, stream_id, event_type, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(projection)
    .bind(schema_name)
    .bind(fit::<_, i64>("event position", event.position)?)
    .bind(event.tenant_id.as_uuid())
    .bind(event.stream_id.as_uuid())
    .bind(&event.event_type)
    .bind(error)
    .fetch_one(conn)
    .await
    .map_err(Error::db("record a dead letter"))
}

const COLUMNS: &str = "id, projection, schema_name, position, tenant_id, stream_id, event_type, \
                       error, failed_at, status";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<DeadLetter, Error> {
    Ok(DeadLetter {
        id: row.get(0),
        projection: row.get(1),
        schema_name: row.get(2),
        position: fit("dead letter position", row.get::<i64, _>(3))?,
        tenant_id: row.get(4),
        stream_id: row.get(5),
        event_type: row.get(6),
        error: row.get(7),
        failed_at: row.get(8),
        status: row.get(9),
    })
}

/// Dead letters, newest first; only pending ones unless `all`.
pub async fn list(
    pool: &PgPool,
    projection: Option<&str>,
    all: bool,
) -> Result<Vec<DeadLetter>, Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deedlog_read.dead_letters \
         WHERE ($1::text IS NULL OR projection = $1) AND ($2 OR status = 'pending') \
         ORDER BY id DESC"
    ))
    .bind(projection)
    .bind(all)
    .fetch_all(pool)
    .await
    .map_err(Error::db("list dead letters"))?;
    rows.iter().map(from_row).collect()
}

/// The dead letter `id`.
pub async fn get(pool: &PgPool, id: i64) -> Result<DeadLetter, Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deedlog_read.dead_letters WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(Error::db("look up a dead letter"))?
    .ok_or(Error::NoSuchDeadLetter(id))?;
    from_row(&row)
}

/// The oldest pending dead letter of a live projection, if any.
pub async fn first_pending(
    conn: &mut PgConnection,
    schema_name: &str,
) -> Result<Option<DeadLetter>, Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deedlog_read.dead_letters \
         WHERE schema_name = $1 AND status = 'pending' ORDER BY position LIMIT 1"
    ))
    .bind(schema_name)
    .fetch_optional(conn)
    .await
    .map_err(Error::db("look up pending dead letters"))?;
    row.as_ref().map(from_row).transpose()
}

/// How many dead letters of `projection` wait for an operator.
pub async fn pending_count(pool: &PgPool, projection: &str) -> Result<u64, Error> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deedlog_read.dead_letters WHERE projection = $1 AND status = 'pending'",
    )
    .bind(projection)
    .fetch_one(pool)
    .await
    .map_err(Error::db("count dead letters"))?;
    Ok(fit("count of dead letters", count)?)
}

async fn lock_pending(conn: &mut PgConnection, id: i64) -> Result<DeadLetter, Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deedlog_read.dead_letters WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("look up a dead letter"))?
    .ok_or(Error::NoSuchDeadLetter(id))?;
    let letter = from_row(&row)?;
    if letter.status != "pending" {
        return Err(Error::DeadLetterResolved {
            id,
            status: letter.status,
        });
    }
    Ok(letter)
}

async fn resolve(conn: &mut PgConnection, id: i64, status: &str) -> Result<(), Error> {
    sqlx::query(
        "UPDATE deedlog_read.dead_letters SET status = $2, resolved_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(conn)
    .await
    .map_err(Error::db("resolve a dead letter"))?;
    Ok(())
}

/// Applies the dead-lettered event again to the schema it failed in and
/// marks it replayed; if it fails again, nothing changes and the error is
/// returned.
pub async fn replay(
    pool: &PgPool,
    reader: &LogReader,
    projection: &dyn Projection,
    id: i64,
) -> Result<DeadLetter, Error> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("replay a dead letter"))?;
    let mut tx = conn
        .begin()
        .await
        .map_err(Error::db("replay a dead letter"))?;
    let letter = lock_pending(&mut tx, id).await?;
    if letter.projection != projection.name() {
        return Err(Error::Schema(format!(
            "dead letter {id} belongs to projection {}, not {}",
            letter.projection,
            projection.name()
        )));
    }
    // The letter's position was passed by the projection: resolved.
    let event = reader
        .read_settled(letter.position.saturating_sub(1), letter.position, 1)
        .await?
        .into_iter()
        .find(|e| e.position == letter.position)
        .ok_or_else(|| {
            Error::Schema(format!(
                "the log has no event at position {} for dead letter {id}",
                letter.position
            ))
        })?;
    schema::use_schema(&mut tx, &letter.schema_name).await?;
    let events = std::slice::from_ref(&event);
    // The key service's pool is the reader's, not the one `tx` holds.
    let index_keys = crate::projection::index_keys(reader.keyring(), events).await?;
    projection
        .apply(
            &mut tx,
            events,
            crate::projection::Keys::new(index_keys.as_ref()),
        )
        .await?;
    resolve(&mut tx, id, "replayed").await?;
    crate::checkpoint::announce_change(&mut tx, &letter.schema_name).await?;
    tx.commit()
        .await
        .map_err(Error::db("replay a dead letter"))?;
    Ok(DeadLetter {
        status: "replayed".into(),
        ..letter
    })
}

/// Marks a dead letter skipped: its event stays unapplied for good.
pub async fn skip(pool: &PgPool, id: i64) -> Result<DeadLetter, Error> {
    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("skip a dead letter"))?;
    let letter = lock_pending(&mut tx, id).await?;
    resolve(&mut tx, id, "skipped").await?;
    tx.commit().await.map_err(Error::db("skip a dead letter"))?;
    Ok(DeadLetter {
        status: "skipped".into(),
        ..letter
    })
}
