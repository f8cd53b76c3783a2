//! Offsets of a partitioned source (a Kafka topic), kept in the projection's
//! own schema and moved in the same transaction as the changes they stand
//! for: exactly once in effect, whatever the broker's committed offsets say.
//!
//! Each row also holds the last log position applied from its partition.
//! The relay publishes a partition's events in log order, so an event at or
//! below that position is a repeat (a relay retry) and is skipped. A row is
//! created at the schema's checkpoint position: what a rebuild or the
//! PostgreSQL source already applied is skipped the same way.

use crate::checkpoint;
use crate::error::Error;
use crate::schema::ident;
use deedlog_kernel::number::fit;
use sqlx::{Connection, PgConnection};

/// The table, in every projection schema worked from a partitioned source.
pub const OFFSETS_TABLE: &str = "source_offsets";

/// Where a projection stands on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffset {
    /// The next offset to apply.
    pub next_offset: i64,
    /// The last log position applied from this partition.
    pub last_position: u64,
}

/// Reads (creating when missing) the offset of `partition` of `topic` in
/// `schema`.
pub async fn load(
    conn: &mut PgConnection,
    schema: &str,
    topic: &str,
    partition: i32,
) -> Result<PartitionOffset, Error> {
    let context = "read a partition offset";
    let schema_ident = ident(schema)?;
    // Two members starting together would both create the table, and one
    // of two concurrent `CREATE TABLE IF NOT EXISTS` fails on the catalog's
    // unique keys: creating it is serialised per schema.
    let mut tx = conn.begin().await.map_err(Error::db(context))?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || '.' || $2))")
        .bind(schema)
        .bind(OFFSETS_TABLE)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context))?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {schema_ident}.{OFFSETS_TABLE} ( \
           topic text NOT NULL, \
           partition integer NOT NULL, \
           next_offset bigint NOT NULL, \
           last_position bigint NOT NULL, \
           updated_at timestamptz NOT NULL DEFAULT now(), \
           PRIMARY KEY (topic, partition))"
    ))
    .execute(&mut *tx)
    .await
    .map_err(Error::db(context))?;
    tx.commit().await.map_err(Error::db(context))?;
    let start = checkpoint::read(conn, schema).await?.position;
    sqlx::query(&format!(
        "INSERT INTO {schema_ident}.{OFFSETS_TABLE} (topic, partition, next_offset, last_position) \
         VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING"
    ))
    .bind(topic)
    .bind(partition)
    .bind(big(start)?)
    .execute(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    let (next_offset, last_position): (i64, i64) = sqlx::query_as(&format!(
        "SELECT next_offset, last_position FROM {schema_ident}.{OFFSETS_TABLE} \
         WHERE topic = $1 AND partition = $2"
    ))
    .bind(topic)
    .bind(partition)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    Ok(PartitionOffset {
        next_offset,
        last_position: fit("partition's last position", last_position)?,
    })
}

/// Inside the caller's batch transaction (search_path on the schema): locks
/// the partition's row and checks that it is still at `expected`; another
/// consumer that applied the same messages first makes this one stop.
pub async fn lock_at(
    conn: &mut PgConnection,
    schema: &str,
    topic: &str,
    partition: i32,
    expected: PartitionOffset,
) -> Result<(), Error> {
    let found: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT next_offset FROM {OFFSETS_TABLE} WHERE topic = $1 AND partition = $2 FOR UPDATE"
    ))
    .bind(topic)
    .bind(partition)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("lock a partition offset"))?;
    match found {
        Some(next) if next == expected.next_offset => Ok(()),
        // Moved, or gone with a rebuild that replaced the schema.
        other => Err(Error::CheckpointMoved {
            schema: format!("{schema} ({topic}/{partition})"),
            expected: fit("partition offset", expected.next_offset)?,
            actual: other.map_or(Ok(0), |n| fit("partition offset", n))?,
        }),
    }
}

/// Moves the locked row to `to`.
pub async fn advance(
    conn: &mut PgConnection,
    topic: &str,
    partition: i32,
    to: PartitionOffset,
) -> Result<(), Error> {
    sqlx::query(&format!(
        "UPDATE {OFFSETS_TABLE} SET next_offset = $3, last_position = $4, updated_at = now() \
         WHERE topic = $1 AND partition = $2"
    ))
    .bind(topic)
    .bind(partition)
    .bind(to.next_offset)
    .bind(big(to.last_position)?)
    .execute(conn)
    .await
    .map_err(Error::db("advance a partition offset"))?;
    Ok(())
}

/// Moves the schema's checkpoint to the lowest last position over the
/// topic's `partitions` (every event up to it is applied: each partition
/// is applied in log order). Runs on its own, not in a batch transaction,
/// so consumers of different partitions never wait on one row.
pub async fn raise_checkpoint(
    conn: &mut PgConnection,
    schema: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), Error> {
    let schema_ident = ident(schema)?;
    // A raise is announced like a batch's move (crate::checkpoint::advance).
    sqlx::query(&format!(
        "WITH raised AS (UPDATE {schema_ident}.{} c SET position = o.low \
         FROM (SELECT min(last_position) AS low FROM {schema_ident}.{OFFSETS_TABLE} \
               WHERE topic = $1 HAVING count(*) = $2) o \
         WHERE o.low > c.position RETURNING c.position) \
         SELECT pg_notify($3, $4 || ' ' || position) FROM raised",
        crate::schema::CHECKPOINT_TABLE
    ))
    .bind(topic)
    .bind(i64::from(partitions))
    .bind(deedlog_read_model::CHANGES_CHANNEL)
    .bind(schema)
    .execute(conn)
    .await
    .map_err(Error::db("raise the checkpoint from partition offsets"))?;
    Ok(())
}

fn big(position: u64) -> Result<i64, Error> {
    Ok(fit("partition's last position", position)?)
}
