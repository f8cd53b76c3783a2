//! A projection's position in the log, kept in its own schema and moved in
//! the same transaction as the changes it stands for.

use crate::error::Error;
use crate::schema::{ident, CHECKPOINT_TABLE};
use chrono::{DateTime, Utc};
use deedlog_kernel::number::fit;
use deedlog_read_model::CHANGES_CHANNEL;
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
        position: to_position(row.get(0))?,
        ddl_hash: row.get(1),
        event_recorded_at: row.get(2),
    })
}

/// Locks the checkpoint row of the schema on this transaction's
/// `search_path` and checks that it is still at `expected` and, for a
/// leased worker, that no one took the lease over since (`epoch`, from
/// [`fence`]); a concurrent worker or a swap waits here and then sees the
/// moved position.
pub async fn lock_at(
    conn: &mut PgConnection,
    schema: &str,
    expected: u64,
    epoch: Option<i64>,
) -> Result<(), Error> {
    let (position, actual_epoch): (i64, i64) = sqlx::query_as(&format!(
        "SELECT position, lease_epoch FROM {CHECKPOINT_TABLE} FOR UPDATE"
    ))
    .fetch_one(conn)
    .await
    .map_err(Error::db("lock a projection checkpoint"))?;
    if let Some(held) = epoch.filter(|held| *held != actual_epoch) {
        return Err(Error::LeaseLost {
            schema: schema.to_owned(),
            reason: format!(
                "another worker took it over (lease epoch {actual_epoch}; this worker holds {held})"
            ),
        });
    }
    let actual = to_position(position)?;
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

/// Claims `schema` for a worker that has just taken its lease: bumps the
/// lease epoch (waiting for a batch of the previous holder still in
/// flight), so that the previous holder's next commit fails in
/// [`lock_at`]. Returns the new epoch and the checkpoint position.
pub async fn fence(conn: &mut PgConnection, schema: &str) -> Result<(i64, u64), Error> {
    let (epoch, position): (i64, i64) = sqlx::query_as(&format!(
        "UPDATE {}.{CHECKPOINT_TABLE} SET lease_epoch = lease_epoch + 1 \
         RETURNING lease_epoch, position",
        ident(schema)?
    ))
    .fetch_one(conn)
    .await
    .map_err(Error::db("fence a projection checkpoint"))?;
    Ok((epoch, to_position(position)?))
}

/// Adds the lease epoch to a checkpoint table created before it existed.
pub async fn upgrade(conn: &mut PgConnection, schema: &str) -> Result<(), Error> {
    let context = "upgrade a projection checkpoint";
    let present: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = $2 AND column_name = 'lease_epoch')",
    )
    .bind(schema)
    .bind(CHECKPOINT_TABLE)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    if !present {
        sqlx::query(&format!(
            "ALTER TABLE {}.{CHECKPOINT_TABLE} ADD COLUMN IF NOT EXISTS lease_epoch bigint NOT NULL DEFAULT 0",
            ident(schema)?
        ))
        .execute(conn)
        .await
        .map_err(Error::db(context))?;
    }
    Ok(())
}

/// Moves the locked checkpoint (of the schema first on the transaction's
/// `search_path`) to `position`, and announces the move on
/// [`CHANGES_CHANNEL`]: PostgreSQL delivers the notice when the transaction
/// commits, and only if it does, so a listener never hears of rows it
/// cannot read yet. Both in one statement, one round trip.
pub async fn advance(
    conn: &mut PgConnection,
    position: u64,
    event_recorded_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(&format!(
        "WITH moved AS (UPDATE {CHECKPOINT_TABLE} SET position = $1, event_recorded_at = $2 \
         RETURNING position) \
         SELECT pg_notify($3, current_schema() || ' ' || position) FROM moved"
    ))
    .bind(fit::<_, i64>("checkpoint position", position)?)
    .bind(event_recorded_at)
    .bind(CHANGES_CHANNEL)
    .execute(conn)
    .await
    .map_err(Error::db("advance a projection checkpoint"))?;
    Ok(())
}

/// Announces on [`CHANGES_CHANNEL`], at the commit of the caller's
/// transaction, that the read model in `schema` changed without its
/// checkpoint moving (a rebuild swapped in, a dead letter replayed, a
/// Kafka partition's batch): readers that keep answers by checkpoint must
/// drop them.
pub async fn announce_change(conn: &mut PgConnection, schema: &str) -> Result<(), Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANGES_CHANNEL)
        .bind(schema)
        .execute(conn)
        .await
        .map_err(Error::db("announce a read-model change"))?;
    Ok(())
}

fn to_position(value: i64) -> Result<u64, Error> {
    Ok(fit("checkpoint position", value)?)
}
