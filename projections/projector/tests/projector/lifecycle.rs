//! Exactly once in effect: a worker killed between applying and
//! committing, two workers on one projection, the runner's lease.

use crate::faults::Faulty;
use crate::support::*;
use deedlog_projector::projections::properties::Properties;
use deedlog_projector::{Projection, Runner, RunnerOptions, Step};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Appends `properties` histories of `changes` changes each; returns the
/// number of events and the last position.
async fn history(db: &TestDb, properties: usize, changes: u64) -> (u64, u64) {
    let tenant = db.tenant().await;
    let mut head = 0;
    for _ in 0..properties {
        let mut price = 50_000_000;
        let mut events = vec![created("Hamburg", price)];
        events.extend((0..changes).map(|n| change(n, &mut price)));
        head = db.append(tenant, new_stream(), &events).await;
    }
    (properties as u64 * (changes + 1), head)
}

#[tokio::test]
async fn a_worker_killed_before_its_commit_applies_nothing_and_its_successor_everything_once() {
    let db = TestDb::new().await;
    let (events, head) = history(&db, 10, 9).await;
    let faulty = Arc::new(Faulty::new(Arc::new(Properties)));
    let mut first = db.projector(faulty.clone(), 25).await;
    // One clean batch, then stall inside the second, after its writes.
    assert!(matches!(
        first.project_batch().await.expect("batch"),
        Step::Progressed { events: 25, .. }
    ));
    let committed_prices = row_count(&db, "rm_properties.price_history").await;
    faulty.stall.store(true, Ordering::SeqCst);
    let stalled = faulty.stalled.notified();
    let task = tokio::spawn(async move {
        let _ = first.project_batch().await;
    });
    stalled.await;
    task.abort();
    let _ = task.await;
    assert_eq!(
        row_count(&db, "rm_properties.price_history").await,
        committed_prices,
        "the aborted batch left nothing behind"
    );

    faulty.stall.store(false, Ordering::SeqCst);
    let mut second = db.projector(faulty.clone(), 25).await;
    assert_eq!(catch_up(&mut second).await, events - 25);
    assert_eq!(second.position(), head);
    // Each of 10 properties: created with a price, 4 drops in 9 changes (n = 0, 1, 2, 8).
    assert_eq!(row_count(&db, "rm_properties.price_history").await, 10 * 5);
    assert_eq!(row_count(&db, "rm_properties.properties").await, 10);
    assert_eq!(row_count(&db, "deedlog_read.dead_letters").await, 0);
}

#[tokio::test]
async fn two_workers_on_one_projection_apply_every_event_once() {
    let db = TestDb::new().await;
    let (_, head) = history(&db, 40, 15).await;
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let a = db.projector(projection.clone(), 7).await;
    let b = db.projector(projection.clone(), 11).await;
    let work = |mut p: deedlog_projector::Projector| async move {
        let mut idle = 0;
        while idle < 3 {
            match p.project_batch().await.expect("project") {
                Step::Progressed { .. } => idle = 0,
                Step::CaughtUp => idle += 1,
            }
        }
        p.position()
    };
    let (at_a, at_b) = tokio::join!(work(a), work(b));
    assert!(at_a == head || at_b == head, "one of them reached the head");
    // Every property created once, each price change recorded once (a
    // second application would have broken the primary key or doubled rows).
    assert_eq!(row_count(&db, "rm_properties.properties").await, 40);
    assert_eq!(
        row_count(&db, "rm_properties.price_history").await,
        40 * 7,
        "created + drops at n = 0, 1, 2, 8, 9, 10"
    );
    assert_eq!(row_count(&db, "deedlog_read.dead_letters").await, 0);
    let versions: i64 = db
        .count("SELECT sum(version)::bigint FROM rm_properties.properties")
        .await;
    assert_eq!(versions, 40 * 16);
}

#[tokio::test]
async fn the_runner_of_a_second_process_waits_for_the_lease_and_takes_over() {
    let db = TestDb::new().await;
    let options = RunnerOptions {
        subscription: options(100),
        lease_interval: Duration::from_millis(100),
        ..RunnerOptions::default()
    };
    let runner = |db: &TestDb| {
        Runner::new(
            vec![Arc::new(Properties)],
            db.pool.clone(),
            db.reader.clone(),
            options,
        )
    };
    let first = runner(&db);
    let first_stats = first.stats()["properties"].clone();
    let second = runner(&db);
    let second_stats = second.stats()["properties"].clone();
    let (stop_first, stop_second) = (CancellationToken::new(), CancellationToken::new());
    let first_task = tokio::spawn(first.run_until_stopped(stop_first.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second_task = tokio::spawn(second.run_until_stopped(stop_second.clone()));

    let (_, head) = history(&db, 5, 5).await;
    wait_for(
        || first_stats.position() == head,
        || format!("first at {} of {head}", first_stats.position()),
    )
    .await;
    assert_eq!(
        second_stats.position(),
        0,
        "the second waits while the first holds the lease"
    );

    stop_first.cancel();
    first_task.await.expect("first stops");
    let (_, head) = history(&db, 5, 5).await;
    wait_for(
        || second_stats.position() == head,
        || format!("second at {} of {head}", second_stats.position()),
    )
    .await;
    stop_second.cancel();
    second_task.await.expect("second stops");
    assert_eq!(row_count(&db, "rm_properties.properties").await, 10);
    assert_eq!(row_count(&db, "rm_properties.price_history").await, 10 * 4);
}

async fn wait_for(done: impl Fn() -> bool, state: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {}",
            state()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
