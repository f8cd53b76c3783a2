//! The projection path's three holes, each driven through the real thing:
//! catching up across a permanent gap while a transaction is in flight, a
//! batch that would skip events, and leases lost to another worker or to a
//! dead session under load.

use crate::support::*;
use deedlog_eventstore::RecordedEvent;
use deedlog_projector::projections::properties::Properties;
use deedlog_projector::{Error, Projection, Projector, Runner, RunnerOptions, Step};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Appends `n` properties (one event each); returns the last position.
async fn properties(db: &TestDb, n: usize) -> u64 {
    let tenant = db.tenant().await;
    let mut head = 0;
    for _ in 0..n {
        head = db
            .append(tenant, new_stream(), &[created("Hamburg", 50_000_000)])
            .await;
    }
    head
}

/// A position drawn and never used, as by a rolled-back append.
async fn burn_a_position(db: &TestDb) {
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::query("SELECT nextval('events_position_seq')")
        .execute(&mut *tx)
        .await
        .expect("draw a position");
    tx.rollback().await.expect("roll back");
}

/// An unrelated write transaction, open until dropped: it holds an id.
async fn open_write_transaction(db: &TestDb) -> sqlx::PgConnection {
    session(db, &["BEGIN", "SELECT pg_current_xact_id()"]).await
}

async fn events_after(db: &TestDb, position: u64) -> Vec<RecordedEvent> {
    db.reader.read_all(position, 1000).await.expect("read")
}

/// A fresh database with `n` properties and a properties worker that has
/// read them; also the log's head.
async fn caught_up_worker(n: usize) -> (TestDb, u64, Projector) {
    let db = TestDb::new().await;
    let head = properties(&db, n).await;
    let mut worker = db.projector(Arc::new(Properties), 100).await;
    catch_up(&mut worker).await;
    (db, head, worker)
}

#[tokio::test]
async fn catching_up_crosses_a_permanent_gap_while_a_transaction_is_in_flight() {
    let (db, first, mut worker) = caught_up_worker(3).await;
    assert_eq!(worker.position(), first);
    // A hole the worker has not read: a rolled-back position, then events.
    burn_a_position(&db).await;
    let hole_end = properties(&db, 4).await;
    let in_flight = open_write_transaction(&db).await;
    // The shared tail's next batch, after the hole.
    properties(&db, 2).await;
    let batch = events_after(&db, hole_end).await;
    assert_eq!(batch.len(), 2);

    let step = worker.apply_shared(&batch).await.expect("apply the batch");
    assert!(matches!(step, Step::Progressed { events: 2, .. }));
    assert_eq!(
        row_count(&db, "rm_properties.properties").await,
        3 + 4 + 2,
        "the hole's events were applied, not skipped"
    );
    drop(in_flight);
}

#[tokio::test]
async fn a_batch_that_would_skip_events_of_the_log_is_refused_and_counted() {
    let (db, first, mut worker) = caught_up_worker(2).await;
    let skipped = properties(&db, 3).await;
    let after = events_after(&db, skipped).await;
    assert!(after.is_empty());
    properties(&db, 1).await;
    let later = events_after(&db, skipped).await;

    let error = worker
        .apply_events(later)
        .await
        .expect_err("a skip is refused");
    assert!(
        matches!(error, Error::Drift { from, to, missing: 3, .. } if from == first && to == skipped + 1),
        "{error}"
    );
    assert!(error.to_string().contains("refused to move its checkpoint"));
    assert_eq!(worker.stats().refused_skips.load(Ordering::Relaxed), 1);
    assert_eq!(worker.position(), first, "the checkpoint did not move");
    assert_eq!(row_count(&db, "rm_properties.properties").await, 2);
    // Nothing was lost: the worker reads on from its checkpoint.
    catch_up(&mut worker).await;
    assert_eq!(row_count(&db, "rm_properties.properties").await, 6);
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_over_commits_nothing_more() {
    let db = TestDb::new().await;
    properties(&db, 2).await;
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let mut old = db.projector(projection.clone(), 1).await;
    old.fence().await.expect("fence");
    assert!(matches!(
        old.project_batch().await.expect("batch"),
        Step::Progressed { .. }
    ));
    // Another worker takes the lease over (the old one was frozen or cut off).
    let mut new = db.projector(projection, 100).await;
    new.fence().await.expect("fence");

    let error = old
        .project_batch()
        .await
        .expect_err("the old holder is fenced off");
    assert!(matches!(error, Error::LeaseLost { .. }), "{error}");
    assert!(error.to_string().contains("another worker took it over"));
    assert_eq!(row_count(&db, "rm_properties.properties").await, 1);
    catch_up(&mut new).await;
    assert_eq!(row_count(&db, "rm_properties.properties").await, 2);
}

/// The backend holding the properties lease of this database: by its key,
/// not any advisory lock (schema creation takes one on a pooled connection).
async fn lease_holder(db: &TestDb) -> Option<i32> {
    let key = deedlog_projector::lease::key("properties");
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2 \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(i64::from((key >> 32) as u32))
    .bind(i64::from(key as u32))
    .fetch_optional(&db.pool)
    .await
    .expect("read locks")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_under_load_is_noticed_within_its_interval() {
    let db = TestDb::new().await;
    let interval = Duration::from_millis(200);
    let runner = Runner::new(
        vec![Arc::new(Properties)],
        db.pool.clone(),
        db.reader.clone(),
        RunnerOptions {
            subscription: options(100),
            lease_interval: interval,
            ..RunnerOptions::default()
        },
    );
    let stats = runner.stats()["properties"].clone();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run_until_stopped(stop.clone()));
    let first_holder = loop {
        if let Some(pid) = lease_holder(&db).await {
            break pid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Steady load: a batch arrives far more often than the lease interval.
    let load_stop = CancellationToken::new();
    let load = tokio::spawn({
        let (tenant, store_db) = (db.tenant().await, db.store.clone());
        let load_stop = load_stop.clone();
        async move {
            let mut appended = 0u64;
            while !load_stop.is_cancelled() {
                let request = deedlog_eventstore::AppendRequest {
                    fingerprint: None,
                    stream_id: new_stream(),
                    stream_type: "property".to_owned(),
                    expected: deedlog_eventstore::ExpectedVersion::Any,
                    metadata: metadata(tenant),
                    events: vec![deedlog_testing::new_event(&created("Hamburg", 1))],
                };
                store_db.append(&request).await.expect("append");
                appended += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            appended
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first_holder)
        .execute(&db.pool)
        .await
        .expect("cut the lease's session");
    let cut = tokio::time::Instant::now();
    let retaken = loop {
        match lease_holder(&db).await {
            Some(pid) if pid != first_holder => break cut.elapsed(),
            _ => {}
        }
        assert!(
            cut.elapsed() < Duration::from_secs(5),
            "the lost lease went unnoticed under load for 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        retaken < interval * 5,
        "noticed and retaken after {retaken:?}"
    );
    load_stop.cancel();
    let appended = load.await.expect("load");
    let head: i64 = db
        .count("SELECT coalesce(max(position), 0) FROM events")
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while stats.position() < head as u64 {
        assert!(tokio::time::Instant::now() < deadline, "caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    task.await.expect("runner stops");
    assert_eq!(
        row_count(&db, "rm_properties.properties").await,
        appended as i64
    );
}
