//! The composite-key helpers of `rows`: load, delete and replace rows by
//! several key columns in one statement each.

use crate::support::*;
use chrono::NaiveDate;
use deedlog_projector::rows;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    tenant_id: Uuid,
    day: NaiveDate,
    label: String,
    n: i64,
}

#[derive(Serialize)]
struct Key {
    day: NaiveDate,
    label: String,
}

const KEY: &[&str] = &["day", "label"];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
}

fn row(d: u32, label: &str, n: i64) -> Row {
    Row {
        tenant_id: Uuid::nil(),
        day: day(d),
        label: label.to_owned(),
        n,
    }
}

async fn all(conn: &mut sqlx::PgConnection) -> Vec<(NaiveDate, String, i64)> {
    sqlx::query_as("SELECT day, label, n FROM keyed ORDER BY day, label COLLATE \"C\"")
        .fetch_all(conn)
        .await
        .expect("rows")
}

#[tokio::test]
async fn rows_are_loaded_deleted_and_replaced_by_a_composite_key() {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.expect("connection");
    sqlx::query(
        "CREATE TABLE keyed (tenant_id uuid NOT NULL, day date NOT NULL, label text NOT NULL, \
         n bigint NOT NULL, PRIMARY KEY (day, label))",
    )
    .execute(&mut *conn)
    .await
    .expect("table");
    let start = [
        row(1, "a", 1),
        row(1, "b", 2),
        row(2, "a", 3),
        row(2, "b", 4),
    ];
    rows::insert(&mut conn, "keyed", &start)
        .await
        .expect("insert");

    // Only rows matching both columns load; a key given twice loads once;
    // fields that are not key columns are ignored.
    let keys = [
        Key {
            day: day(1),
            label: "b".into(),
        },
        Key {
            day: day(2),
            label: "a".into(),
        },
        Key {
            day: day(2),
            label: "a".into(),
        },
        Key {
            day: day(3),
            label: "a".into(),
        },
    ];
    let mut loaded: Vec<Row> = rows::load_by(&mut conn, "keyed", KEY, &keys)
        .await
        .expect("load");
    loaded.sort_by_key(|r| (r.day, r.n));
    assert_eq!(loaded, vec![row(1, "b", 2), row(2, "a", 3)]);
    let none: Vec<Row> = rows::load_by(&mut conn, "keyed", KEY, &[] as &[Key])
        .await
        .expect("load none");
    assert!(none.is_empty());

    // Replacing updates the rows with those keys and adds the new ones.
    rows::replace_by(&mut conn, "keyed", KEY, &[row(2, "a", 30), row(3, "c", 5)])
        .await
        .expect("replace");
    rows::delete_by(
        &mut conn,
        "keyed",
        KEY,
        &[Key {
            day: day(1),
            label: "a".into(),
        }],
    )
    .await
    .expect("delete");
    assert_eq!(
        all(&mut conn).await,
        vec![
            (day(1), "b".to_owned(), 2),
            (day(2), "a".to_owned(), 30),
            (day(2), "b".to_owned(), 4),
            (day(3), "c".to_owned(), 5),
        ]
    );
}
