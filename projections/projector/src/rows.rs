//! Set-based reads and writes of read-model rows: a batch loads the rows it
//! touches with one statement (as JSON, `json_agg`) and writes them back
//! with one (`COPY`), so the struct of a row and its table share column
//! names and nothing else needs listing.

use crate::copy_text::{self, ArrayAs};
use crate::projection::ApplyError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
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

/// `rows` in a map (any that collects pairs), each under the key `key_of`
/// reads from it.
pub fn keyed<K, T, M: FromIterator<(K, T)>>(rows: Vec<T>, key_of: impl Fn(&T) -> K) -> M {
    rows.into_iter().map(|row| (key_of(&row), row)).collect()
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

/// Inserts `rows` into `table` with one `COPY … FROM STDIN`.
///
/// Each row is serialised to a JSON object whose keys are column names;
/// a JSON array goes into an array column as a PostgreSQL array and into a
/// `json`/`jsonb` column as JSON, as the table's catalog says.
pub async fn insert<T: Serialize>(
    conn: &mut PgConnection,
    table: &'static str,
    rows: &[T],
) -> Result<(), ApplyError> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let context = "copy read-model rows";
    let to_map = |row: &T| match serde_json::to_value(row) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) | Err(_) => Err(ApplyError::Database {
            context,
            source: sqlx::Error::Protocol(format!("a row of {table} is not a JSON object")),
        }),
    };
    let columns: Vec<String> = to_map(first)?.keys().cloned().collect();
    let arrays = array_columns::<T>(conn, table).await?;
    let kinds: Vec<ArrayAs> = columns
        .iter()
        .map(|c| {
            if arrays.contains(c) {
                ArrayAs::SqlArray
            } else {
                ArrayAs::Json
            }
        })
        .collect();
    let mut text = String::with_capacity(rows.len() * 256);
    for row in rows {
        let map = to_map(row)?;
        for (i, (value, kind)) in map.values().zip(&kinds).enumerate() {
            if i > 0 {
                text.push('\t');
            }
            copy_text::field(&mut text, value, *kind);
        }
        text.push('\n');
    }
    // Names are static identifiers written in this crate.
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
        .await
        .map_err(ApplyError::db(context))?;
    if let Err(error) = copy.send(text.into_bytes()).await {
        let _ = copy.abort("the rows could not be sent").await;
        return Err(ApplyError::db(context)(error));
    }
    copy.finish().await.map_err(ApplyError::db(context))?;
    Ok(())
}

/// The columns of `table` (on the current `search_path`) that are arrays,
/// looked up once per row type and table: the DDL does not change while
/// the process runs, and live and rebuilt schemas share it.
async fn array_columns<T>(
    conn: &mut PgConnection,
    table: &'static str,
) -> Result<Arc<Vec<String>>, ApplyError> {
    type Cache = Mutex<HashMap<(&'static str, &'static str), Arc<Vec<String>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (std::any::type_name::<T>(), table);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped \
           AND t.typcategory = 'A'",
    )
    .bind(table)
    .fetch_all(conn)
    .await
    .map_err(ApplyError::db(
        "look up the array columns of a read-model table",
    ))?;
    let found = Arc::new(found);
    if let Ok(mut cache) = cache.lock() {
        cache.insert(key, found.clone());
    }
    Ok(found)
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

/// Loads the rows of `table` whose pair of uuid columns `key` is one of
/// `keys`, in one statement (a join on two `unnest`ed arrays); `context`
/// says what is loaded, for the error.
pub async fn load_pairs<T: DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    table: &'static str,
    key: [&'static str; 2],
    keys: &[(Uuid, Uuid)],
    context: &'static str,
) -> Result<Vec<T>, ApplyError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (firsts, seconds): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let [a, b] = key;
    let json: Option<sqlx::types::Json<Vec<T>>> = sqlx::query_scalar(&format!(
        "SELECT json_agg(t) FROM {table} t \
         JOIN unnest($1::uuid[], $2::uuid[]) AS k({a}, {b}) ON {}",
        key_match(&key)
    ))
    .bind(&firsts)
    .bind(&seconds)
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db(context))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

/// Deletes the rows of `table` whose pair of uuid columns `key` is one of
/// `keys` (as in [`load_pairs`]).
pub async fn delete_pairs(
    conn: &mut PgConnection,
    table: &'static str,
    key: [&'static str; 2],
    keys: &[(Uuid, Uuid)],
    context: &'static str,
) -> Result<(), ApplyError> {
    if keys.is_empty() {
        return Ok(());
    }
    let (firsts, seconds): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let [a, b] = key;
    sqlx::query(&format!(
        "DELETE FROM {table} t USING unnest($1::uuid[], $2::uuid[]) AS k({a}, {b}) WHERE {}",
        key_match(&key)
    ))
    .bind(&firsts)
    .bind(&seconds)
    .execute(conn)
    .await
    .map_err(ApplyError::db(context))?;
    Ok(())
}

/// Inserts `rows` into `table`, and where a row with the same `key` is
/// there, sets its `update` columns to the new row's instead, in one
/// statement; `context` names what is written, for the error.
pub async fn upsert<T: Serialize + Sync>(
    conn: &mut PgConnection,
    table: &'static str,
    key: &'static [&'static str],
    update: &'static [&'static str],
    rows: &[T],
    context: &'static str,
) -> Result<(), ApplyError> {
    if rows.is_empty() {
        return Ok(());
    }
    let set = update
        .iter()
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json) \
         ON CONFLICT ({}) DO UPDATE SET {set}",
        key.join(", ")
    ))
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await
    .map_err(ApplyError::db(context))?;
    Ok(())
}
