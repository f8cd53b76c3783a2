//! Appending and reading back one stream: outcome, metadata, conflicts,
//! idempotency and "state as of".

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{Error, ExpectedVersion, StreamQuery, Until};
use deedlog_kernel::TraceContext;
use serde_json::{json, Value};

#[tokio::test]
async fn appended_events_read_back_with_their_metadata() {
    let (_db, store, tenant, stream) = support::seeded(0).await;
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
    let (db, store, tenant, stream) = support::seeded(3).await;

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
    let (db, store, tenant, stream) = support::seeded(0).await;
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
    let (db, store, tenant, _) = support::seeded(0).await;
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
    let (db, store, tenant, stream) = support::seeded(1).await;
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
    let (db, store, tenant, stream) = support::seeded(0).await;
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
    let (_db, store, tenant, _) = support::seeded(0).await;
    let events = store
        .read_stream(tenant, new_stream(), StreamQuery::ALL)
        .await
        .expect("read");
    assert!(events.is_empty());
}

#[tokio::test]
async fn a_command_id_repeated_with_another_fingerprint_is_refused_and_appends_nothing() {
    let (db, store, tenant, _) = support::seeded(0).await;
    let mut req = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    req.fingerprint = Some([1; 32]);
    store.append(&req).await.expect("first");
    let again = store.append(&req).await.expect("a true repeat");
    assert!(again.duplicate);
    let mut other = req.clone();
    other.fingerprint = Some([2; 32]);
    let error = store.append(&other).await.expect_err("another request");
    assert!(
        matches!(error, Error::CommandMismatch { command_id } if command_id == req.metadata.command_id),
        "{error}"
    );
    // Without a fingerprint (older callers) a repeat is not compared.
    other.fingerprint = None;
    assert!(
        store
            .append(&other)
            .await
            .expect("unfingerprinted")
            .duplicate
    );
    assert_eq!(db.count_events().await, 1);
}

#[tokio::test]
async fn command_ids_are_scoped_to_their_tenant() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (support::tenant(&store).await, support::tenant(&store).await);
    let first = request(a, new_stream(), ExpectedVersion::NoStream, 1);
    store.append(&first).await.expect("tenant a");
    // Tenant b may use the same key for its own record, and learns nothing.
    let mut same_key = request(b, new_stream(), ExpectedVersion::NoStream, 2);
    same_key.metadata.command_id = first.metadata.command_id;
    let outcome = store.append(&same_key).await.expect("tenant b");
    assert!(!outcome.duplicate);
    assert_eq!(db.count_events().await, 3);
}

#[tokio::test]
async fn appending_together_stores_every_stream_or_none() {
    let (db, store, tenant, _) = support::seeded(0).await;
    let taken = new_stream();
    store
        .append(&request(tenant, taken, ExpectedVersion::NoStream, 1))
        .await
        .expect("taken");
    let fresh = request(tenant, new_stream(), ExpectedVersion::NoStream, 2);
    // The second part conflicts: the first is not stored either.
    let conflicting = request(tenant, taken, ExpectedVersion::NoStream, 1);
    let error = store
        .append_together(&[fresh.clone(), conflicting], false)
        .await
        .expect_err("conflict");
    assert!(matches!(error, Error::Conflict { .. }), "{error}");
    assert_eq!(db.count_events().await, 1);
    let other = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    let outcomes = store
        .append_together(&[fresh.clone(), other.clone()], false)
        .await
        .expect("together");
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes[0].last_position() < outcomes[1].positions[0]);
    assert_eq!(db.count_events().await, 4);
    // Repeated: every part is a duplicate, nothing more is stored.
    let again = store
        .append_together(&[fresh, other], false)
        .await
        .expect("repeat");
    assert!(again.iter().all(|o| o.duplicate));
    assert_eq!(db.count_events().await, 4);
}

#[tokio::test]
async fn appending_together_can_register_the_tenant_or_leave_no_trace() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = deedlog_kernel::TenantId::from_uuid(uuid::Uuid::now_v7());
    let part = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    let error = store
        .append_together(std::slice::from_ref(&part), false)
        .await
        .expect_err("an unregistered tenant");
    assert!(matches!(error, Error::UnknownTenant { .. }), "{error}");
    let mut bad = request(tenant, new_stream(), ExpectedVersion::Exact(3), 1);
    bad.metadata.command_id = deedlog_kernel::CommandId::from_uuid(uuid::Uuid::now_v7());
    store
        .append_together(&[part.clone(), bad], true)
        .await
        .expect_err("a refused part");
    let pool = db.owner_pool().await;
    let registered: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants WHERE tenant_id = $1")
        .bind(tenant.as_uuid())
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    assert_eq!(registered, 0, "a refused group registers no tenant");
    store
        .append_together(&[part], true)
        .await
        .expect("registered and appended");
    assert_eq!(db.count_events().await, 1);
}
