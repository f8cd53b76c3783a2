//! A projection's position in the log, kept in its own schema and moved in
//! the same transaction as the changes it stands for.

use crate::error::Error;
use crate::schema::{ident, CHECKPOINT_TABLE};
use chrono::{DateTime, Utc};
use deedlog_kernel::number::fit;
use deedlog_read_model::CHANGES_CHANNEL;
use sqlx::{Connection, PgConnection, Row};

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
///
/// A previous holder frozen mid-statement (a `COPY` whose data never comes:
/// PostgreSQL holds query cancels while it reads it, and no timeout applies
/// to an active statement waiting on its client) would hold the row for
/// ever. After [`FENCE_WAIT`] its backend, the one whose transaction holds
/// the row, is terminated, and the bump tried again.
pub async fn fence(conn: &mut PgConnection, schema: &str) -> Result<(i64, u64), Error> {
    let context = "fence a projection checkpoint";
    let table = format!("{}.{CHECKPOINT_TABLE}", ident(schema)?);
    loop {
        let mut tx = conn.begin().await.map_err(Error::db(context))?;
        sqlx::query(&format!(
            "SET LOCAL lock_timeout = {}",
            FENCE_WAIT.as_millis()
        ))
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context))?;
        let bumped: Result<(i64, i64), sqlx::Error> = sqlx::query_as(&format!(
            "UPDATE {table} SET lease_epoch = lease_epoch + 1 RETURNING lease_epoch, position"
        ))
        .fetch_one(&mut *tx)
        .await;
        match bumped {
            Ok((epoch, position)) => {
                tx.commit().await.map_err(Error::db(context))?;
                return Ok((epoch, to_position(position)?));
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                tx.rollback().await.map_err(Error::db(context))?;
                // Found first, ended after: in one statement the planner may
                // test the terminate call on lock rows the join would drop.
                let holders: Vec<i32> = sqlx::query_scalar(&format!(
                    "SELECT l.pid FROM {table} c JOIN pg_locks l \
                       ON l.locktype = 'transactionid' AND l.transactionid = c.xmax \
                      AND l.mode = 'ExclusiveLock' AND l.granted \
                     WHERE l.pid <> pg_backend_pid()"
                ))
                .fetch_all(&mut *conn)
                .await
                .map_err(Error::db(context))?;
                let mut ended = Vec::with_capacity(holders.len());
                for pid in holders {
                    let done: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                        .bind(pid)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(Error::db(context))?;
                    if done {
                        ended.push(pid);
                    }
                }
                tracing::warn!(schema, ?ended, "a previous lease holder's transaction held the checkpoint; its backend was terminated");
            }
            Err(e) => return Err(Error::db(context)(e)),
        }
    }
}

/// How long a new lease holder waits for a previous holder's batch.
pub const FENCE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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
