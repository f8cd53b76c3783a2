//! `docs/read-models.md` names every read-model table and column, and
//! nothing that does not exist.

use crate::support::*;
use deedlog_projector::projections;
use std::collections::BTreeSet;

/// `schema.table.column` of every documented column.
fn documented() -> BTreeSet<String> {
    let text = include_str!("../../../../docs/read-models.md");
    let mut table = None;
    let mut columns = BTreeSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            table = Some(name.trim().to_owned());
        } else if let (Some(table), Some(rest)) = (&table, line.strip_prefix("| `")) {
            if let Some((column, _)) = rest.split_once('`') {
                columns.insert(format!("{table}.{column}"));
            }
        }
    }
    columns
}

#[tokio::test]
async fn every_read_model_column_is_documented_and_every_documented_one_exists() {
    let db = TestDb::new().await;
    for projection in projections::all() {
        db.projector(projection, 10).await;
    }
    let actual: BTreeSet<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns \
         WHERE (table_schema LIKE 'rm\\_%' OR table_schema = 'deedlog_read') \
           AND table_name NOT IN ('checkpoint', '_sqlx_migrations')",
    )
    .fetch_all(&db.pool)
    .await
    .expect("columns")
    .into_iter()
    .collect();
    let documented = documented();
    let undocumented: Vec<_> = actual.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&actual).collect();
    assert!(
        undocumented.is_empty(),
        "columns missing from docs/read-models.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "documented columns that do not exist: {stale:?}"
    );
}
