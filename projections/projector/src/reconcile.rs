//! Reconciliation: rebuild a projection aside, compare it row by row with
//! the live one at the same log position, record the run and every
//! difference.

use crate::error::Error;
use crate::projection::Projection;
use crate::rebuild::{build_aside, catch_up_to_live, Progress};
use crate::schema;
use crate::schema::Table;
use deedlog_eventstore::LogReader;
use deedlog_kernel::number::fit;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Acquire, PgConnection, PgPool, Row};
use std::sync::Arc;

/// Most differences stored in one run's report; the counts are always whole.
const MAX_REPORTED: usize = 10_000;

/// How a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The rebuild has it, the live model does not.
    Missing,
    /// The live model has it, the rebuild does not.
    Extra,
    /// Both have it, with other values.
    Differing,
}

/// One row that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub table: String,
    pub kind: DifferenceKind,
    /// The row's key columns and values.
    pub key: Map<String, Value>,
    /// For a differing row: each column that differs, as {live, rebuilt}.
    pub columns: Map<String, Value>,
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub run_id: i64,
    pub projection: String,
    pub position: u64,
    pub missing: u64,
    pub extra: u64,
    pub differing: u64,
    pub differences: Vec<Difference>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.differing == 0
    }
}

/// Reconciles `projection`: records the run, rebuilds it aside, freezes the
/// live model briefly to bring the rebuild to exactly its position,
/// compares every table and records what it found.
pub async fn reconcile(
    pool: &PgPool,
    reader: &LogReader,
    projection: Arc<dyn Projection>,
    batch_size: u32,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Report, Error> {
    let name = projection.name();
    // One at a time: runs share the aside schema.
    let lease = crate::lease::Lease::try_acquire(pool, &format!("reconcile.{name}"))
        .await?
        .ok_or_else(|| Error::ReconcileRunning(name.to_owned()))?;
    let outcome = reconcile_leased(pool, reader, projection, batch_size, progress).await;
    // Closed, not dropped: a dropped session frees its lock only once the
    // server notices the lost socket, and a run straight after would find
    // it still held.
    lease.release().await;
    outcome
}

/// A reconciliation under its lease: the run recorded from start to end.
async fn reconcile_leased(
    pool: &PgPool,
    reader: &LogReader,
    projection: Arc<dyn Projection>,
    batch_size: u32,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Report, Error> {
    let name = projection.name();
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO deedlog_read.reconciliation_runs (projection) VALUES ($1) RETURNING id",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .map_err(Error::db("record a reconciliation run"))?;
    let result = run(
        pool,
        reader,
        projection.clone(),
        batch_size,
        progress,
        run_id,
    )
    .await;
    let aside = aside_schema(name);
    if let Ok(mut conn) = pool.acquire().await {
        if let Err(error) = schema::drop(&mut conn, &aside).await {
            tracing::warn!(%error, schema = %aside, "drop the reconciliation schema");
        }
    }
    match result {
        Ok(report) => {
            record(pool, &report).await?;
            Ok(report)
        }
        Err(error) => {
            let _ = sqlx::query(
                "UPDATE deedlog_read.reconciliation_runs SET status = 'failed', \
                 finished_at = now(), error = $2 WHERE id = $1",
            )
            .bind(run_id)
            .bind(error.to_string())
            .execute(pool)
            .await;
            Err(error)
        }
    }
}

/// The outcome of a projection's latest finished reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub projection: String,
    pub status: String,
    pub position: Option<u64>,
    /// Missing, extra and differing rows together.
    pub drift_rows: u64,
    pub finished_at: chrono::DateTime<chrono::Utc>,
}

/// Each projection's latest finished reconciliation (CLI or background).
pub async fn latest(pool: &PgPool) -> Result<Vec<LastRun>, Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT ON (projection) projection, status, position, \
           missing_rows + extra_rows + differing_rows AS drift, finished_at \
         FROM deedlog_read.reconciliation_runs WHERE finished_at IS NOT NULL \
         ORDER BY projection, finished_at DESC",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::db("read the latest reconciliations"))?;
    rows.iter()
        .map(|row| {
            Ok(LastRun {
                projection: row.get("projection"),
                status: row.get("status"),
                position: row
                    .get::<Option<i64>, _>("position")
                    .map(|p| fit("reconciled position", p))
                    .transpose()?,
                drift_rows: fit("count of drifted rows", row.get::<i64, _>("drift"))?,
                finished_at: row.get("finished_at"),
            })
        })
        .collect()
}

fn aside_schema(projection: &str) -> String {
    format!("rm_{projection}__reconcile")
}

async fn run(
    pool: &PgPool,
    reader: &LogReader,
    projection: Arc<dyn Projection>,
    batch_size: u32,
    progress: &mut (dyn FnMut(Progress) + Send),
    run_id: i64,
) -> Result<Report, Error> {
    let name = projection.name();
    let live = schema::live(name);
    let aside = aside_schema(name);
    let context = "reconcile a projection";
    let mut conn = pool.acquire().await.map_err(Error::db(context))?;
    if !schema::exists(&mut conn, &live).await? {
        return Err(Error::Schema(format!(
            "projection {name} has no live read model yet (schema {live}); start the projector first"
        )));
    }
    // Up to where the live model is now, without holding it up.
    let live_now = crate::checkpoint::read(&mut conn, &live).await?.position;
    drop(conn);
    build_aside(
        pool,
        reader,
        projection.clone(),
        &aside,
        batch_size,
        Some(live_now),
        progress,
    )
    .await?;
    // Then freeze the live model, close the last gap and compare.
    let mut conn = pool.acquire().await.map_err(Error::db(context))?;
    let mut tx = conn.begin().await.map_err(Error::db(context))?;
    let position =
        catch_up_to_live(&mut tx, reader, projection.as_ref(), &aside, batch_size).await?;
    let mut report = Report {
        run_id,
        projection: name.to_owned(),
        position,
        missing: 0,
        extra: 0,
        differing: 0,
        differences: Vec::new(),
    };
    for table in schema::keyed_tables(&mut tx, &live, projection.as_ref()).await? {
        compare(&mut tx, &live, &aside, &table, &mut report).await?;
    }
    tx.rollback().await.map_err(Error::db(context))?;
    Ok(report)
}

/// Compares one table of the live and rebuilt schemas by key.
async fn compare(
    conn: &mut PgConnection,
    live: &str,
    aside: &str,
    table: &Table,
    report: &mut Report,
) -> Result<(), Error> {
    let quoted = schema::ident(&table.name)?;
    let on = table
        .key
        .iter()
        .map(|k| schema::ident(k).map(|k| format!("l.{k} = a.{k}")))
        .collect::<Result<Vec<_>, _>>()?
        .join(" AND ");
    // Names are checked identifiers (see `schema::ident`).
    let sql = format!(
        "SELECT to_jsonb(l) AS live, to_jsonb(a) AS rebuilt \
         FROM {live}.{quoted} l FULL JOIN {aside}.{quoted} a ON {on} \
         WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(a)",
        live = schema::ident(live)?,
        aside = schema::ident(aside)?,
    );
    let rows = sqlx::query(&sql)
        .fetch_all(conn)
        .await
        .map_err(Error::db("compare a read-model table"))?;
    for row in rows {
        let live: Option<Value> = row.get(0);
        let rebuilt: Option<Value> = row.get(1);
        let difference = describe(table, live, rebuilt);
        match difference.kind {
            DifferenceKind::Missing => report.missing += 1,
            DifferenceKind::Extra => report.extra += 1,
            DifferenceKind::Differing => report.differing += 1,
        }
        if report.differences.len() < MAX_REPORTED {
            report.differences.push(difference);
        }
    }
    Ok(())
}

fn describe(table: &Table, live: Option<Value>, rebuilt: Option<Value>) -> Difference {
    let as_map = |v: Option<Value>| match v {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    let (live, rebuilt) = (as_map(live), as_map(rebuilt));
    let either = live.as_ref().or(rebuilt.as_ref());
    let key = table
        .key
        .iter()
        .map(|k| {
            let value = either
                .and_then(|row| row.get(k))
                .cloned()
                .unwrap_or(Value::Null);
            (k.clone(), value)
        })
        .collect();
    let (kind, columns) = match (&live, &rebuilt) {
        (None, _) => (DifferenceKind::Missing, Map::new()),
        (_, None) => (DifferenceKind::Extra, Map::new()),
        (Some(l), Some(r)) => {
            let mut columns = Map::new();
            for (column, live_value) in l {
                let rebuilt_value = r.get(column).cloned().unwrap_or(Value::Null);
                if *live_value != rebuilt_value {
                    columns.insert(
                        column.clone(),
                        serde_json::json!({ "live": live_value, "rebuilt": rebuilt_value }),
                    );
                }
            }
            (DifferenceKind::Differing, columns)
        }
    };
    Difference {
        table: table.name.clone(),
        kind,
        key,
        columns,
    }
}

/// `difference` as a run stores it: analysts read stored runs, so the
/// values of personal columns ([`crate::personal`]) are left out; the
/// column is still named. The operator's own report keeps them.
fn redacted(projection: &str, difference: &Difference) -> Difference {
    let personal = crate::personal::columns(projection, &difference.table);
    let mut difference = difference.clone();
    for (column, values) in difference.columns.iter_mut() {
        if personal.contains(&column.as_str()) {
            *values = serde_json::json!({ "personal": true });
        }
    }
    difference
}

async fn record(pool: &PgPool, report: &Report) -> Result<(), Error> {
    let status = if report.is_clean() { "clean" } else { "drift" };
    let stored: Vec<Difference> = report
        .differences
        .iter()
        .map(|d| redacted(&report.projection, d))
        .collect();
    let differences = serde_json::to_value(&stored).unwrap_or_else(|_| Value::Array(Vec::new()));
    sqlx::query(
        "UPDATE deedlog_read.reconciliation_runs SET status = $2, finished_at = now(), \
         position = $3, missing_rows = $4, extra_rows = $5, differing_rows = $6, report = $7 \
         WHERE id = $1",
    )
    .bind(report.run_id)
    .bind(status)
    .bind(fit::<_, i64>("reconciled position", report.position)?)
    .bind(fit::<_, i64>("count of missing rows", report.missing)?)
    .bind(fit::<_, i64>("count of extra rows", report.extra)?)
    .bind(fit::<_, i64>("count of differing rows", report.differing)?)
    .bind(differences)
    .execute(pool)
    .await
    .map_err(Error::db("record a reconciliation run"))?;
    Ok(())
}
