//! A projection's position in the log, kept in its own schema and moved in
//! the same transaction as the changes it stands for.

use crate::error::Error;
use crate::schema::{ident, CHECKPOINT_TABLE};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

/// Where a projection schema stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last log position applied (0: none).
    pub position: u64,
    /// The fingerprint of the DDL the schema was created from.
    pub ddl_hash: String,
    /// When the log recorded the last event applied.
    pub event_recorded_at: Option<DateTime<Utc>>,
}

/// Reads the checkpoint of `schema` without locking it.
pub async fn read(conn: &mut PgConnection, schema: &str) -> Result<Checkpoint, Error> {
    let row = sqlx::query(&format!(
        "SELECT position, ddl_hash, event_recorded_at FROM {}.{CHECKPOINT_TABLE}",
        ident(schema)?
    ))
    .fetch_one(conn)
    .await
    .map_err(Error::db("read a projection checkpoint"))?;
    Ok(Checkpoint {
        position: to_position(row.get(0)),
        ddl_hash: row.get(1),
        event_recorded_at: row.get(2),
    })
}

/// Locks the checkpoint row of the schema on this transaction's
/// `search_path` and checks that it is still at `expected`; a concurrent
/// worker or a swap waits here and then sees the moved position.
pub async fn lock_at(conn: &mut PgConnection, schema: &str, expected: u64) -> Result<(), Error> {
    let position: i64 = sqlx::query_scalar(&format!(
        "SELECT position FROM {CHECKPOINT_TABLE} FOR UPDATE"
    ))
    .fetch_one(conn)
    .await
    .map_err(Error::db("lock a projection checkpoint"))?;
    let actual = to_position(position);
    if actual == expected {
        Ok(())
    } else {
        Err(Error::CheckpointMoved {
            schema: schema.to_owned(),
            expected,
            actual,
        })
    }
}

/// Moves the locked checkpoint to `position`.
pub async fn advance(
    conn: &mut PgConnection,
    position: u64,
    event_recorded_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(&format!(
        "UPDATE {CHECKPOINT_TABLE} SET position = $1, event_recorded_at = $2"
    ))
    .bind(i64::try_from(position).unwrap_or(i64::MAX))
    .bind(event_recorded_at)
    .execute(conn)
    .await
    .map_err(Error::db("advance a projection checkpoint"))?;
    Ok(())
}

fn to_position(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
