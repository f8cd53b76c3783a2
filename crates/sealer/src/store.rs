//! The seal tables (log migration 0006): signed heads and leaf hashes.

use crate::error::Error;
use chrono::{DateTime, Utc};
use deedlog_kernel::number::{fit, saturating_i64};
use deedlog_seal::merkle::Hash;
use deedlog_seal::{Head, SignedHead};
use sqlx::PgPool;
use uuid::Uuid;

/// One sealed position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub position: u64,
    /// Whose event it is; `None` for an absent position.
    pub tenant: Option<Uuid>,
    pub hash: Hash,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    block: i64,
    first_position: i64,
    last_position: i64,
    root: Vec<u8>,
    previous: Vec<u8>,
    head: Vec<u8>,
    key_id: String,
    signature: Vec<u8>,
    sealed_at: DateTime<Utc>,
}

const HEAD_COLUMNS: &str =
    "block, first_position, last_position, root, previous, head, key_id, signature, sealed_at";

fn hash_of(bytes: &[u8], what: &str, block: i64) -> Result<Hash, Error> {
    bytes
        .try_into()
        .map_err(|_| Error::Malformed(format!("block {block}'s {what} is not 32 bytes")))
}

impl TryFrom<HeadRow> for SignedHead {
    type Error = Error;
    fn try_from(row: HeadRow) -> Result<Self, Error> {
        Ok(SignedHead {
            head: Head {
                block: fit("block", row.block)?,
                first_position: fit("first position", row.first_position)?,
                last_position: fit("last position", row.last_position)?,
                root: hash_of(&row.root, "root", row.block)?,
                previous: hash_of(&row.previous, "previous head", row.block)?,
                sealed_at: row.sealed_at,
                key_id: row.key_id,
            },
            stored_hash: row.head,
            signature: row.signature,
        })
    }
}

/// The latest head, if the log was ever sealed.
pub async fn last_head(pool: &PgPool) -> Result<Option<SignedHead>, Error> {
    let row: Option<HeadRow> = sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM seal_blocks ORDER BY block DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await
    .map_err(Error::db("read the last seal"))?;
    row.map(SignedHead::try_from).transpose()
}

/// Every head, in block order.
pub async fn heads(pool: &PgPool) -> Result<Vec<SignedHead>, Error> {
    let rows: Vec<HeadRow> = sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM seal_blocks ORDER BY block"
    ))
    .fetch_all(pool)
    .await
    .map_err(Error::db("read the seals"))?;
    rows.into_iter().map(SignedHead::try_from).collect()
}

/// The head of the block that covers `position`.
pub async fn head_covering(pool: &PgPool, position: u64) -> Result<Option<SignedHead>, Error> {
    let row: Option<HeadRow> = sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM seal_blocks WHERE first_position <= $1 AND last_position >= $1"
    ))
    .bind(saturating_i64(position))
    .fetch_optional(pool)
    .await
    .map_err(Error::db("find the seal of a position"))?;
    row.map(SignedHead::try_from).transpose()
}

/// The stored leaves of positions `first..=last`, in order.
pub async fn leaves(pool: &PgPool, first: u64, last: u64) -> Result<Vec<Leaf>, Error> {
    let rows: Vec<(i64, Option<Uuid>, Vec<u8>)> = sqlx::query_as(
        "SELECT position, tenant_id, leaf FROM seal_leaves \
         WHERE position >= $1 AND position <= $2 ORDER BY position",
    )
    .bind(saturating_i64(first))
    .bind(saturating_i64(last))
    .fetch_all(pool)
    .await
    .map_err(Error::db("read sealed leaves"))?;
    rows.into_iter()
        .map(|(position, tenant, leaf)| {
            Ok(Leaf {
                position: fit("position", position)?,
                tenant,
                hash: leaf.as_slice().try_into().map_err(|_| {
                    Error::Malformed(format!("the leaf of position {position} is not 32 bytes"))
                })?,
            })
        })
        .collect()
}

/// Stores a sealed block: its head and its leaves, in one transaction. A
/// block another sealer stored first (same number or positions) is a
/// conflict: nothing is written and `false` returned.
pub async fn insert(
    pool: &PgPool,
    head: &Head,
    signature: &[u8; 64],
    leaves: &[Leaf],
) -> Result<bool, Error> {
    let context = "store a seal";
    let mut tx = pool.begin().await.map_err(Error::db(context))?;
    let inserted = sqlx::query(
        "INSERT INTO seal_blocks (block, first_position, last_position, root, previous, head, key_id, signature, sealed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(saturating_i64(head.block))
    .bind(saturating_i64(head.first_position))
    .bind(saturating_i64(head.last_position))
    .bind(head.root.as_slice())
    .bind(head.previous.as_slice())
    .bind(head.hash().as_slice())
    .bind(&head.key_id)
    .bind(signature.as_slice())
    .bind(head.sealed_at)
    .execute(&mut *tx)
    .await
    .map_err(Error::db(context))?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    let positions: Vec<i64> = leaves.iter().map(|l| saturating_i64(l.position)).collect();
    let tenants: Vec<Option<Uuid>> = leaves.iter().map(|l| l.tenant).collect();
    let hashes: Vec<Vec<u8>> = leaves.iter().map(|l| l.hash.to_vec()).collect();
    sqlx::query(
        "INSERT INTO seal_leaves (position, block, tenant_id, leaf) \
         SELECT position, $4, tenant_id, leaf FROM unnest($1::bigint[], $2::uuid[], $3::bytea[]) \
         AS l(position, tenant_id, leaf)",
    )
    .bind(&positions)
    .bind(&tenants)
    .bind(&hashes)
    .bind(saturating_i64(head.block))
    .execute(&mut *tx)
    .await
    .map_err(Error::db(context))?;
    tx.commit().await.map_err(Error::db(context))?;
    Ok(true)
}
