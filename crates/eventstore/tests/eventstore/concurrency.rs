//! Optimistic concurrency under a real race, and the subscription's
//! guarantee under many concurrent writers with late commits and rollbacks.

use crate::support::{self, new_stream, request};
use deedlog_eventstore::{Error, ExpectedVersion, GroupCommit, StreamQuery, SubscriptionOptions};
use sqlx::postgres::PgConnectOptions;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

const RACERS: usize = 32;
const ROUNDS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_32_racers_at_one_version_exactly_one_wins_each_round() {
    let (_db, store, tenant, stream) = support::seeded(0).await;
    race(store, tenant, stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_32_racers_through_the_group_commit_exactly_one_wins_each_round() {
    let (_db, store, tenant, stream) = support::seeded(0).await;
    race(
        store.with_group_commit(GroupCommit::default()),
        tenant,
        stream,
    )
    .await;
}

async fn race(
    store: deedlog_eventstore::EventStore,
    tenant: deedlog_kernel::TenantId,
    stream: deedlog_kernel::StreamId,
) {
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(RACERS));
        let tasks: Vec<_> = (0..RACERS)
            .map(|_| {
                let (store, barrier) = (store.clone(), barrier.clone());
                let req = request(tenant, stream, ExpectedVersion::Exact(round), 1);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.append(&req).await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(outcome) => {
                    wins += 1;
                    assert_eq!(outcome.stream_version, round + 1);
                }
                Err(Error::Conflict {
                    stream: s,
                    expected,
                    actual,
                }) => {
                    assert_eq!(s, stream);
                    assert_eq!(expected, ExpectedVersion::Exact(round));
                    assert_eq!(actual, round + 1, "the loser is told the winner's version");
                }
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    let versions: Vec<u64> = store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect("read")
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(
        versions,
        (1..=ROUNDS).collect::<Vec<_>>(),
        "no hole, no duplicate"
    );
}

const WRITERS: usize = 32;
const APPENDS_PER_WRITER: usize = 20;

/// Appends through the database function inside an explicit transaction that
/// is rolled back: its positions are drawn and then vanish.
async fn rolled_back_append(options: &PgConnectOptions, tenant: deedlog_kernel::TenantId) {
    let mut conn = support::connection_as(options, "deedlog_app").await;
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    append_raw(&mut conn, tenant, "RolledBack").await;
    sqlx::query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");
}

async fn append_raw(
    conn: &mut sqlx::PgConnection,
    tenant: deedlog_kernel::TenantId,
    event_type: &str,
) {
    let outcome: String = sqlx::query_scalar(
        "SELECT outcome FROM append_events($1, gen_random_uuid(), 'property', 0, gen_random_uuid(), 'user:t', \
         gen_random_uuid(), gen_random_uuid(), NULL, NULL, now(), ARRAY[$2, $2], ARRAY[1, 1], \
         ARRAY['{}', '{}']::json[])",
    )
    .bind(tenant.as_uuid())
    .bind(event_type)
    .fetch_one(&mut *conn)
    .await
    .expect("append_events");
    assert_eq!(outcome, "appended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_sees_every_committed_event_once_in_order_despite_late_commits() {
    let (db, store, tenant, _) = support::seeded(0).await;
    // The writers go through the group commit, as the command services do.
    let store = store.with_group_commit(GroupCommit::default());
    let reader = db.reader().await;
    let options = SubscriptionOptions {
        batch_size: 97,
        poll_interval: Duration::from_millis(50),
    };
    let mut subscription = reader.subscribe(0, options);

    // A transaction that draws positions first and commits last.
    let mut slow = db.connection_as("deedlog_app").await;
    sqlx::query("BEGIN")
        .execute(&mut slow)
        .await
        .expect("begin");
    append_raw(&mut slow, tenant, "LateCommit").await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = new_stream();
                let mut expected = ExpectedVersion::NoStream;
                for i in 0..APPENDS_PER_WRITER {
                    let mut req = request(tenant, stream, expected, 1 + (i % 3) as u64);
                    req.stream_type = format!("writer{w}");
                    let outcome = store.append(&req).await.expect("append");
                    expected = ExpectedVersion::Exact(outcome.stream_version);
                }
            })
        })
        .collect();
    let rollbacks: Vec<_> = (0..8)
        .map(|_| {
            let options = db.options.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    rolled_back_append(&options, tenant).await;
                }
            })
        })
        .collect();

    let subscriber = tokio::spawn(async move {
        let mut seen = Vec::new();
        // Stop once the late commit and everything after it has arrived.
        while !seen.iter().any(|(_, t): &(u64, String)| t == "LateCommit")
            || seen.len() < expected_total()
        {
            let batch = subscription.next_batch().await.expect("next batch");
            seen.extend(batch.into_iter().map(|e| (e.position, e.event_type)));
        }
        // Nothing further is pending.
        assert!(subscription.poll().await.expect("poll").is_empty());
        seen
    });

    for writer in writers {
        writer.await.expect("writer");
    }
    for rollback in rollbacks {
        rollback.await.expect("rollbacks");
    }
    // Everyone else has committed long after the slow transaction drew its positions.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !subscriber.is_finished(),
        "the subscriber must wait for the late commit"
    );
    sqlx::query("COMMIT")
        .execute(&mut slow)
        .await
        .expect("commit");

    let seen = tokio::time::timeout(Duration::from_secs(60), subscriber)
        .await
        .expect("subscriber finishes")
        .expect("subscriber task");
    let committed: Vec<i64> = sqlx::query_scalar("SELECT position FROM events ORDER BY position")
        .fetch_all(&db.owner_pool().await)
        .await
        .expect("positions");
    let committed: Vec<u64> = committed.into_iter().map(|p| p as u64).collect();
    let positions: Vec<u64> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        positions, committed,
        "every committed event once, in position order"
    );
    assert!(seen.iter().all(|(_, t)| t != "RolledBack"));
    let distinct: HashSet<u64> = positions.iter().copied().collect();
    assert_eq!(distinct.len(), positions.len());
    // Late commit drew its positions before the writers, so it comes early.
    let late = seen
        .iter()
        .position(|(_, t)| t == "LateCommit")
        .expect("late commit seen");
    assert!(
        late < seen.len() / 2,
        "late commit at index {late} of {}",
        seen.len()
    );
    // The writers' commands shared transactions: a batch records its
    // commands at one instant.
    let shared: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM commands GROUP BY recorded_at) b",
    )
    .fetch_one(&db.owner_pool().await)
    .await
    .expect("batch sizes");
    assert!(shared > 1, "no two appends shared a batch");
}

/// Events the writers and the slow transaction commit in total.
fn expected_total() -> usize {
    let per_writer: usize = (0..APPENDS_PER_WRITER).map(|i| 1 + i % 3).sum();
    WRITERS * per_writer + 2
}
