//! Old schema versions stored in the log are read as the current version.

use crate::support::{self, new_stream, TestDb};
use deedlog_eventstore::{EventStore, LogReader, StreamQuery, Upcasters};
use deedlog_kernel::{StreamId, TenantId};
use serde_json::{json, Value};
use std::sync::Arc;

fn upcasters() -> Upcasters {
    // v1 stored the price as a float in "price"; v2 uses minor units and a currency.
    Upcasters::new().register("AskingPriceSet", 1, |v| {
        let price = v["price"]
            .as_f64()
            .ok_or("v1 payload has no numeric price")?;
        Ok(json!({ "amount_minor": (price * 100.0).round() as i64, "currency": "EUR" }))
    })
}

/// A store with the upcasters and one v1 `AskingPriceSet` stored with SQL.
async fn with_v1_event(payload: &str) -> (TestDb, EventStore, TenantId, StreamId) {
    let db = TestDb::new().await;
    let store = db.store_with(upcasters()).await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    support::insert_raw_event(&db, tenant, stream, 1, ("AskingPriceSet", 1, payload)).await;
    (db, store, tenant, stream)
}

#[tokio::test]
async fn a_v1_event_stored_with_sql_reads_as_v2() {
    let (db, store, tenant, stream) = with_v1_event(r#"{"price": 450000.5}"#).await;

    let events = store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect("read");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].schema_version, events[0].stored_schema_version),
        (2, 1)
    );
    let payload: Value = events[0].payload_as().expect("json");
    assert_eq!(
        payload,
        json!({ "amount_minor": 45000050, "currency": "EUR" })
    );

    let reader = LogReader::connect(&db.connect_options(), Arc::new(upcasters()))
        .await
        .expect("reader");
    let all = reader.read_all(0, 10).await.expect("read all");
    assert_eq!(all[0].schema_version, 2);

    // The stored row itself is untouched.
    let stored: (i32, Value) = sqlx::query_as("SELECT schema_version, payload FROM events")
        .fetch_one(&db.owner_pool().await)
        .await
        .expect("row");
    assert_eq!(stored, (1, json!({ "price": 450000.5 })));
}

#[tokio::test]
async fn an_event_that_cannot_be_upcast_is_reported_by_type_and_version() {
    let (_db, store, tenant, stream) = with_v1_event(r#"{"cost": 1}"#).await;
    let error = store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect_err("cannot upcast");
    assert_eq!(
        error.to_string(),
        "cannot upcast AskingPriceSet v1: v1 payload has no numeric price"
    );
}
