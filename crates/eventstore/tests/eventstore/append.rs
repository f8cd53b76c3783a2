//! Appending and reading back one stream: outcome, metadata, conflicts,
//! idempotency and "state as of".

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{Error, ExpectedVersion, StreamQuery, Until};
use deedlog_kernel::TraceContext;
use serde_json::{json, Value};

#[tokio::test]
async fn appended_events_read_back_with_their_metadata() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    let mut req = request(tenant, stream, ExpectedVersion::NoStream, 2);
    req.metadata.trace = Some(TraceContext {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        tracestate: Some("vendor=1".into()),
    });
    let outcome = store.append(&req).await.expect("append");
    assert_eq!(outcome.stream_version, 2);
    assert_eq!(outcome.positions.len(), 2);
    assert!(outcome.positions[0] < outcome.positions[1]);
    assert!(!outcome.duplicate);

    let events = store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect("read");
    assert_eq!(events.len(), 2);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.version, i as u64 + 1);
        assert_eq!(event.position, outcome.positions[i]);
        assert_eq!(event.tenant_id, tenant);
        assert_eq!(event.stream_type, "property");
        assert_eq!(event.event_type, "PriceChanged");
        assert_eq!(event.actor, req.metadata.actor);
        assert_eq!(event.command_id, req.metadata.command_id);
        assert_eq!(event.correlation_id, req.metadata.correlation_id);
        assert_eq!(event.causation_id, req.metadata.causation_id);
        assert_eq!(event.trace, req.metadata.trace);
        assert_eq!(event.recorded_at, outcome.recorded_at);
        // PostgreSQL keeps microseconds.
        assert_eq!(
            event.occurred_at.timestamp_micros(),
            req.metadata.occurred_at.timestamp_micros()
        );
        let payload: Value = event.payload_as().expect("json");
        assert_eq!(payload, json!({"n": i, "note": "asking price changed"}));
    }
}

#[tokio::test]
async fn wrong_expected_version_is_a_conflict_naming_both_versions() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    store
        .append(&request(tenant, stream, ExpectedVersion::NoStream, 3))
        .await
        .expect("append");

    let error = store
        .append(&request(tenant, stream, ExpectedVersion::Exact(1), 1))
        .await
        .expect_err("stale version");
    match &error {
        Error::Conflict {
            stream: s,
            expected,
            actual,
        } => {
            assert_eq!(
                (*s, *expected, *actual),
                (stream, ExpectedVersion::Exact(1), 3)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!("version conflict on stream {stream}: expected version 1, but the stream is at version 3")
    );
    let error = store
        .append(&request(tenant, stream, ExpectedVersion::NoStream, 1))
        .await
        .expect_err("stream exists");
    assert!(
        matches!(error, Error::Conflict { actual: 3, .. }),
        "{error:?}"
    );
    // Any appends after the head; Exact(3) too.
    let outcome = store
        .append(&request(tenant, stream, ExpectedVersion::Any, 1))
        .await
        .expect("any");
    assert_eq!(outcome.stream_version, 4);
    let outcome = store
        .append(&request(tenant, stream, ExpectedVersion::Exact(4), 2))
        .await
        .expect("exact");
    assert_eq!(outcome.stream_version, 6);
    assert_eq!(db.count_events().await, 6);
}

#[tokio::test]
async fn the_same_command_id_returns_the_first_outcome_and_appends_nothing() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    let req = request(tenant, stream, ExpectedVersion::NoStream, 2);
    let first = store.append(&req).await.expect("first");
    // Sent again, even though ExpectedVersion::NoStream would now conflict.
    let again = store.append(&req).await.expect("repeat");
    assert!(again.duplicate);
    assert_eq!(
        (again.stream_version, &again.positions, again.recorded_at),
        (first.stream_version, &first.positions, first.recorded_at)
    );
    assert_eq!(db.count_events().await, 2);

    let mut elsewhere = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    elsewhere.metadata.command_id = req.metadata.command_id;
    let error = store.append(&elsewhere).await.expect_err("reused id");
    assert!(
        matches!(error, Error::CommandIdReused { command_id } if command_id == req.metadata.command_id)
    );
    assert_eq!(db.count_events().await, 2);
}

#[tokio::test]
async fn concurrent_repeats_of_one_command_append_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let req = request(tenant, new_stream(), ExpectedVersion::Any, 3);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, req) = (store.clone(), req.clone());
            tokio::spawn(async move { store.append(&req).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("append or duplicate"));
    }
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1);
    assert!(outcomes
        .iter()
        .all(|o| o.positions == outcomes[0].positions && o.stream_version == 3));
    assert_eq!(db.count_events().await, 3);
}

#[tokio::test]
async fn a_stream_keeps_its_type() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    store
        .append(&request(tenant, stream, ExpectedVersion::NoStream, 1))
        .await
        .expect("append");
    let mut req = request(tenant, stream, ExpectedVersion::Any, 1);
    req.stream_type = "deal".into();
    let error = store.append(&req).await.expect_err("other type");
    assert_eq!(
        error.to_string(),
        format!("stream {stream} holds property events; cannot append deal events to it")
    );
    assert_eq!(db.count_events().await, 1);
}

#[tokio::test]
async fn reads_stop_at_a_version_or_an_instant() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    let first = store
        .append(&request(tenant, stream, ExpectedVersion::NoStream, 2))
        .await
        .expect("append");
    let second = store
        .append(&request(tenant, stream, ExpectedVersion::Exact(2), 2))
        .await
        .expect("append");
    assert!(first.recorded_at < second.recorded_at);

    let versions = |events: Vec<deedlog_eventstore::RecordedEvent>| {
        events.iter().map(|e| e.version).collect::<Vec<_>>()
    };
    let query = |from_version, until| StreamQuery {
        from_version,
        until,
    };
    let read = |q| store.read_stream(tenant, stream, q);
    assert_eq!(
        versions(read(query(1, Until::Version(3))).await.expect("read")),
        [1, 2, 3]
    );
    assert_eq!(
        versions(read(query(2, Until::End)).await.expect("read")),
        [2, 3, 4]
    );
    assert_eq!(
        versions(
            read(StreamQuery::as_of(first.recorded_at))
                .await
                .expect("read")
        ),
        [1, 2]
    );
    assert_eq!(
        versions(
            read(StreamQuery::as_of(second.recorded_at))
                .await
                .expect("read")
        ),
        [1, 2, 3, 4]
    );
    let before = first.recorded_at - chrono::Duration::microseconds(1);
    assert!(read(StreamQuery::as_of(before))
        .await
        .expect("read")
        .is_empty());
    // The privileged reader sees the same stream.
    let reader = db.reader().await;
    assert_eq!(
        versions(
            reader
                .read_stream(stream, StreamQuery::ALL)
                .await
                .expect("read")
        ),
        [1, 2, 3, 4]
    );
}

#[tokio::test]
async fn an_unknown_stream_reads_as_empty() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let events = store
        .read_stream(tenant, new_stream(), StreamQuery::ALL)
        .await
        .expect("read");
    assert!(events.is_empty());
}
