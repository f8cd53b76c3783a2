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

/// The join condition `t.<c> = k.<c> AND …` over the columns of a
/// composite key (static names written in this crate, never input).
fn key_match(key: &[&str]) -> String {
    key.iter()
        .map(|c| format!("t.{c} = k.{c}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Loads the rows of `table` whose composite `key` (its primary-key
/// columns) equals that of one of `keys`, in one statement.
///
/// `keys` are any serializable values whose field names include the key
/// columns (rows of `table` itself will do; other fields are ignored):
/// they travel as JSON and are read with `json_populate_recordset(NULL::
/// table, …)`, so each field gets its column's type. Duplicate keys load a
/// row once.
pub async fn load_by<K, T>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static [&'static str],
    keys: &[K],
) -> Result<Vec<T>, ApplyError>
where
    K: Serialize + Sync,
    T: DeserializeOwned + Send + Unpin + 'static,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let columns = key.join(", ");
    let on = key_match(key);
    let json: Option<sqlx::types::Json<Vec<T>>> = sqlx::query_scalar(&format!(
        "SELECT json_agg(t) FROM \
         (SELECT DISTINCT {columns} FROM json_populate_recordset(NULL::{table}, $1::json)) k \
         JOIN {table} t ON {on}"
    ))
    .bind(sqlx::types::Json(keys))
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db("load read-model rows by key"))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

/// Deletes the rows of `table` whose composite `key` equals that of one of
/// `keys` (as in [`load_by`]), in one statement:
/// `DELETE FROM table t USING json_populate_recordset(NULL::table, $1) k
/// WHERE t.a = k.a AND t.b = k.b`.
pub async fn delete_by<K: Serialize + Sync>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static [&'static str],
    keys: &[K],
) -> Result<(), ApplyError> {
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "DELETE FROM {table} t USING json_populate_recordset(NULL::{table}, $1::json) k WHERE {}",
        key_match(key)
    ))
    .bind(sqlx::types::Json(keys))
    .execute(conn)
    .await
    .map_err(ApplyError::db("delete read-model rows by key"))?;
    Ok(())
}

/// Replaces rows of `table` identified by a composite `key`: deletes the
/// rows with the keys of `rows`, then inserts `rows` (two statements).
pub async fn replace_by<T: Serialize + Sync>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static [&'static str],
    rows: &[T],
) -> Result<(), ApplyError> {
    delete_by(conn, table, key, rows).await?;
    insert(conn, table, rows).await
}
