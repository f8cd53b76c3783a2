//! PostgreSQL going away and coming back, seen through a cuttable proxy.

use crate::proxy::Proxy;
use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{
    Error, EventStore, ExpectedVersion, LogReader, SubscriptionOptions, Upcasters,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_fail_clearly_and_the_subscription_resumes_losing_nothing() {
    let db = TestDb::new().await;
    let direct = db.store().await;
    let tenant = support::tenant(&direct).await;
    let mut proxy = Proxy::start("127.0.0.1:5432".parse().expect("addr")).await;
    let mut options = db.via(proxy.port);
    options.acquire_timeout = Duration::from_secs(1);
    let store = EventStore::connect(&options, Arc::new(Upcasters::new()))
        .await
        .expect("store via proxy");
    let reader = LogReader::connect(&options, Arc::new(Upcasters::new()))
        .await
        .expect("reader via proxy");
    let mut subscription = reader.subscribe(
        0,
        SubscriptionOptions {
            batch_size: 50,
            poll_interval: Duration::from_millis(50),
        },
    );

    let mut appended = HashSet::new();
    appended.extend(support::append_streams(&store, tenant, 3, 2).await);
    let mut seen = Vec::new();
    seen.extend(
        subscription
            .next_batch()
            .await
            .expect("first batch")
            .into_iter()
            .map(|e| e.position),
    );

    proxy.cut().await;
    let error = store
        .append(&request(tenant, new_stream(), ExpectedVersion::NoStream, 1))
        .await
        .expect_err("database unreachable");
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(
        error
            .to_string()
            .starts_with("the event log database is unreachable (append events)"),
        "{error}"
    );
    let error = subscription.poll().await.expect_err("reader cut off too");
    assert!(error.is_transient(), "{error:?}");

    // Writes continue directly while the subscriber's path is down.
    appended.extend(support::append_streams(&direct, tenant, 3, 3).await);
    proxy.restore().await;

    let outcome = store
        .append(&request(tenant, new_stream(), ExpectedVersion::NoStream, 1))
        .await
        .expect("appends work again");
    appended.extend(outcome.positions);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < appended.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscription did not catch up: {seen:?}"
        );
        match tokio::time::timeout(Duration::from_secs(5), subscription.next_batch()).await {
            Ok(Ok(batch)) => seen.extend(batch.into_iter().map(|e| e.position)),
            Ok(Err(error)) => assert!(error.is_transient(), "{error:?}"),
            Err(_) => {}
        }
    }
    let mut expected: Vec<u64> = appended.into_iter().collect();
    expected.sort_unstable();
    assert_eq!(
        seen, expected,
        "every event once, in order, across the outage"
    );
}
