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
    heads_from(pool, 1).await
}

/// The heads from block `block` on, in block order.
pub async fn heads_from(pool: &PgPool, block: u64) -> Result<Vec<SignedHead>, Error> {
    let rows: Vec<HeadRow> = sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM seal_blocks WHERE block >= $1 ORDER BY block"
    ))
    .bind(saturating_i64(block))
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

/// The stored leaves of block `block`, in position order.
pub async fn leaves(pool: &PgPool, block: u64) -> Result<Vec<Leaf>, Error> {
    let (first, hashes, tenants): (i64, Vec<u8>, Vec<Option<Uuid>>) =
        sqlx::query_as("SELECT first_position, leaves, tenants FROM seal_blocks WHERE block = $1")
            .bind(saturating_i64(block))
            .fetch_one(pool)
            .await
            .map_err(Error::db("read a block's leaves"))?;
    let first: u64 = fit("position", first)?;
    if hashes.len() != tenants.len() * 32 {
        return Err(Error::Malformed(format!(
            "block {block} holds {} bytes of leaves for {} positions",
            hashes.len(),
            tenants.len()
        )));
    }
    Ok(hashes
        .chunks_exact(32)
        .zip(tenants)
        .enumerate()
        .map(|(i, (hash, tenant))| Leaf {
            position: first + i as u64,
            tenant,
            hash: hash.try_into().expect("chunks of 32"),
        })
        .collect())
}

/// Stores a sealed block: its head and its leaves, in one row. A block
/// another sealer stored first (same number or positions) is a conflict:
/// nothing is written and `false` returned.
pub async fn insert(
    pool: &PgPool,
    head: &Head,
    signature: &[u8; 64],
    leaves: &[Leaf],
) -> Result<bool, Error> {
    let hashes: Vec<u8> = leaves.iter().flat_map(|l| l.hash).collect();
    let tenants: Vec<Option<Uuid>> = leaves.iter().map(|l| l.tenant).collect();
    let inserted = sqlx::query(
        "INSERT INTO seal_blocks (block, first_position, last_position, root, previous, head, key_id, signature, sealed_at, leaves, tenants) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
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
    .bind(hashes)
    .bind(tenants)
    .execute(pool)
    .await
    .map_err(Error::db("store a seal"))?
    .rows_affected();
    Ok(inserted > 0)
}
