//! The append batcher: concurrent appends share round trips, yet each one is
//! checked and answered on its own, exactly as a lone append would be.

use crate::support::{new_stream, request, tenant, TestDb};
use deedlog_eventstore::{BatchOptions, Batcher, Error, ExpectedVersion};
use std::collections::HashSet;

/// A batcher whose batches really form: one in flight at a time.
fn batcher(store: &deedlog_eventstore::EventStore) -> Batcher {
    Batcher::start(
        store.clone(),
        BatchOptions {
            max_appends: 64,
            in_flight: 1,
        },
    )
}

#[tokio::test]
async fn concurrent_appends_of_two_tenants_all_land_with_distinct_positions() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (tenant(&store).await, tenant(&store).await);
    let batcher = batcher(&store);
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..60 {
        let batcher = batcher.clone();
        let owner = if n % 3 == 0 { b } else { a };
        calls.spawn(async move {
            batcher
                .append(request(
                    owner,
                    new_stream(),
                    ExpectedVersion::NoStream,
                    1 + n % 3,
                ))
                .await
        });
    }
    let mut positions = HashSet::new();
    while let Some(done) = calls.join_next().await {
        let outcome = done.expect("join").expect("appended");
        assert!(!outcome.duplicate);
        assert_eq!(outcome.positions.len() as u64, outcome.stream_version);
        for p in outcome.positions {
            assert!(positions.insert(p), "position {p} given twice");
        }
    }
    assert_eq!(db.count_events().await as usize, positions.len());
}

#[tokio::test]
async fn within_a_batch_each_append_gets_its_own_answer() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let owner = tenant(&store).await;
    let batcher = batcher(&store);
    let stream = new_stream();
    let first = request(owner, stream, ExpectedVersion::NoStream, 1);
    let repeat = first.clone();
    let rival = request(owner, stream, ExpectedVersion::NoStream, 1);
    let mut empty = request(owner, new_stream(), ExpectedVersion::NoStream, 1);
    empty.events.clear();
    let mut wrong_type = request(owner, stream, ExpectedVersion::Any, 1);
    wrong_type.stream_type = "deal".into();
    let other = request(owner, new_stream(), ExpectedVersion::NoStream, 2);
    let (first, repeat, rival, empty, wrong_type, other) = tokio::join!(
        batcher.append(first),
        batcher.append(repeat),
        batcher.append(rival),
        batcher.append(empty),
        batcher.append(wrong_type),
        batcher.append(other),
    );
    let first = first.expect("the first append lands");
    assert_eq!(first.stream_version, 1);
    let repeat = repeat.expect("a repeated command id is answered");
    assert!(repeat.duplicate);
    assert_eq!(repeat.positions, first.positions);
    assert!(
        matches!(rival, Err(Error::Conflict { actual: 1, .. })),
        "{rival:?}"
    );
    assert!(matches!(empty, Err(Error::EmptyAppend)), "{empty:?}");
    assert!(
        matches!(wrong_type, Err(Error::StreamTypeMismatch { .. })),
        "{wrong_type:?}"
    );
    assert_eq!(other.expect("an unrelated append lands").stream_version, 2);
    assert_eq!(
        db.count_events().await,
        3,
        "only the two good appends wrote"
    );
}
