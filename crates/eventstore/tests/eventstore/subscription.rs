//! Reading the whole log and subscribing to it.

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{ExpectedVersion, SubscriptionOptions};
use std::time::Duration;

#[tokio::test]
async fn read_all_returns_every_tenant_in_position_order_from_a_position() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (support::tenant(&store).await, support::tenant(&store).await);
    let mut last = Vec::new();
    for tenant in [a, b, a] {
        let outcome = store
            .append(&request(tenant, new_stream(), ExpectedVersion::NoStream, 3))
            .await
            .expect("append");
        last.push(outcome.last_position());
    }
    let reader = db.reader().await;
    let all = reader.read_all(0, 100).await.expect("read all");
    assert_eq!(all.len(), 9);
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(all.iter().filter(|e| e.tenant_id == b).count(), 3);
    let after_first = reader.read_all(last[0], 100).await.expect("read from");
    assert_eq!(after_first.len(), 6);
    assert_eq!(after_first[0].position, all[3].position);
    assert_eq!(reader.read_all(0, 4).await.expect("limited").len(), 4);
}

#[tokio::test]
async fn a_subscription_is_woken_by_a_notification_not_by_polling() {
    let (db, store, tenant, _) = support::seeded(0).await;
    let reader = db.reader().await;
    // Polling once a minute: only LISTEN/NOTIFY can deliver within the test's bound.
    let options = SubscriptionOptions {
        batch_size: 100,
        poll_interval: Duration::from_secs(60),
    };
    let mut subscription = reader.subscribe(0, options);
    let waiting = tokio::spawn(async move {
        let batch = subscription.next_batch().await.expect("batch");
        (batch.len(), subscription)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "nothing to deliver yet");
    store
        .append(&request(tenant, new_stream(), ExpectedVersion::NoStream, 2))
        .await
        .expect("append");
    let (delivered, subscription) = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("woken by the notification long before the poll interval")
        .expect("task");
    assert_eq!(delivered, 2);
    assert!(subscription.position() > 0);
}

#[tokio::test]
async fn a_subscription_resumes_after_its_position_without_repeats() {
    let (db, store, tenant, _) = support::seeded(0).await;
    support::append_streams(&store, tenant, 3, 2).await;
    let reader = db.reader().await;
    let options = SubscriptionOptions {
        batch_size: 4,
        poll_interval: Duration::from_millis(20),
    };
    let mut first = reader.subscribe(0, options);
    let batch = first.next_batch().await.expect("batch");
    assert_eq!(batch.len(), 4, "batch size is respected");
    let resume_at = first.position();
    assert_eq!(resume_at, batch[3].position);
    drop(first);

    let mut second = reader.subscribe(resume_at, options);
    let rest = second.next_batch().await.expect("batch");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|e| e.position > resume_at));
    assert!(second.poll().await.expect("poll").is_empty());
}
