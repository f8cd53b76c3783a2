//! Set-based reads and writes of read-model rows: a batch loads the rows it
//! touches with one statement and writes them back with one, the rows
//! travelling as JSON (`json_populate_recordset`), so the struct of a row
//! and its table share column names and nothing else needs listing.

use crate::projection::ApplyError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// Loads the rows of `table` whose `key` column is one of `ids`.
///
/// `table` and `key` are static names written in this crate, never input.
pub async fn load<T: DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static str,
    ids: &[Uuid],
) -> Result<Vec<T>, ApplyError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let json: Option<sqlx::types::Json<Vec<T>>> = sqlx::query_scalar(&format!(
        "SELECT json_agg(t) FROM {table} t WHERE {key} = ANY($1)"
    ))
    .bind(ids)
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db("load read-model rows"))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

/// Replaces the rows of `table` keyed by `key` with `rows` (deleting the
/// old versions first) in two statements.
pub async fn replace<T: Serialize>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static str,
    ids: &[Uuid],
    rows: &[T],
) -> Result<(), ApplyError> {
    if !ids.is_empty() {
        sqlx::query(&format!("DELETE FROM {table} WHERE {key} = ANY($1)"))
            .bind(ids)
            .execute(&mut *conn)
            .await
            .map_err(ApplyError::db("replace read-model rows"))?;
    }
    insert(conn, table, rows).await
}

/// Inserts `rows` into `table` in one statement.
pub async fn insert<T: Serialize>(
    conn: &mut PgConnection,
    table: &'static str,
    rows: &[T],
) -> Result<(), ApplyError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"
    ))
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await
    .map_err(ApplyError::db("insert read-model rows"))?;
    Ok(())
}
