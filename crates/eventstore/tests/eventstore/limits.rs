//! Every limit refuses the whole append with a clear message and leaves
//! what is stored untouched.

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::limits::MAX_PAYLOAD_BYTES;
use deedlog_eventstore::{
    AppendRequest, Error, EventStore, ExpectedVersion, NewEvent, StreamQuery,
};
use deedlog_kernel::{StreamId, TenantId, TraceContext};
use serde_json::json;
use uuid::Uuid;

struct Fixture {
    db: TestDb,
    store: EventStore,
    tenant: TenantId,
    stream: StreamId,
}

/// A database with one stream of two events, which no refusal may change.
async fn fixture() -> Fixture {
    let (db, store, tenant, stream) = support::seeded(2).await;
    Fixture {
        db,
        store,
        tenant,
        stream,
    }
}

impl Fixture {
    /// Appends a request changed by `change`, expects a refusal, checks nothing moved.
    async fn refused(&self, change: impl FnOnce(&mut AppendRequest)) -> Error {
        let mut req = request(self.tenant, self.stream, ExpectedVersion::Exact(2), 1);
        change(&mut req);
        let error = self.store.append(&req).await.expect_err("refused");
        assert_eq!(
            self.db.count_events().await,
            2,
            "nothing stored after {error}"
        );
        let versions: Vec<u64> = self
            .store
            .read_stream(self.tenant, self.stream, StreamQuery::ALL)
            .await
            .expect("read")
            .iter()
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, [1, 2]);
        error
    }
}

#[tokio::test]
async fn each_limit_is_refused_with_its_reason() {
    let f = fixture().await;

    let e = f.refused(|r| r.events.clear()).await;
    assert_eq!(e.to_string(), "an append needs at least one event");

    let e = f
        .refused(|r| {
            let big = "x".repeat(MAX_PAYLOAD_BYTES);
            r.events
                .push(NewEvent::new("Photo", 1, &json!({ "data": big })).expect("json"));
        })
        .await;
    assert!(
        matches!(e, Error::PayloadTooLarge { index: 1, size, .. } if size > MAX_PAYLOAD_BYTES),
        "{e:?}"
    );
    assert!(e.to_string().contains("the limit is 1048576 bytes"), "{e}");

    let e = f
        .refused(|r| r.events[0].event_type = "price changed".into())
        .await;
    assert_eq!(
        e.to_string(),
        "event type \"price changed\" contains ' '; only ASCII letters, digits, '.', '_' and '-' are allowed"
    );
    let e = f.refused(|r| r.events[0].event_type = String::new()).await;
    assert_eq!(e.to_string(), "event type \"\" is empty");
    let e = f.refused(|r| r.stream_type = "9lives".into()).await;
    assert_eq!(
        e.to_string(),
        "stream type \"9lives\" must start with an ASCII letter"
    );

    let e = f.refused(|r| r.events[0].schema_version = 0).await;
    assert!(
        matches!(e, Error::InvalidSchemaVersion { index: 0, .. }),
        "{e:?}"
    );
    // The log stores schema versions as a PostgreSQL integer: a larger one
    // is refused by name, never clamped.
    let e = f.refused(|r| r.events[0].schema_version = u32::MAX).await;
    assert_eq!(
        e.to_string(),
        "event #0 (PriceChanged) has schema version 4294967295; versions run from 1 to 2147483647"
    );

    let e = f
        .refused(|r| r.events[0] = NewEvent::new("Listed", 1, &json!([1, 2])).expect("json"))
        .await;
    assert_eq!(
        e.to_string(),
        "event #0 (Listed) must have a JSON object as payload"
    );

    let e = f.refused(|r| r.metadata.actor = "   ".into()).await;
    assert_eq!(
        e.to_string(),
        "an append must name its actor (the acting user or system)"
    );

    let e = f.refused(|r| r.metadata.actor = "a".repeat(300)).await;
    assert!(matches!(e, Error::ActorTooLong { len: 300, .. }), "{e:?}");

    let e = f
        .refused(|r| {
            r.metadata.trace = Some(TraceContext {
                traceparent: "not-a-trace".into(),
                tracestate: None,
            })
        })
        .await;
    assert!(matches!(e, Error::InvalidTraceContext { .. }), "{e:?}");

    let e = f
        .refused(|r| r.metadata.tenant_id = TenantId::from_uuid(Uuid::now_v7()))
        .await;
    assert!(
        e.to_string()
            .ends_with("is not registered in the event log"),
        "{e}"
    );

    let e = f
        .refused(|r| r.events = (0..10_001).map(|n| support::event("Bulk", n)).collect())
        .await;
    assert_eq!(
        e.to_string(),
        "an append may hold at most 10000 events; this one has 10001"
    );
}

#[tokio::test]
async fn versions_cannot_overflow() {
    let f = fixture().await;
    // Checked before the database for an exact expected version.
    let e = f
        .refused(|r| r.expected = ExpectedVersion::Exact(i64::MAX as u64))
        .await;
    assert!(matches!(e, Error::VersionOverflow { .. }), "{e:?}");
    let e = f
        .refused(|r| r.expected = ExpectedVersion::Exact(u64::MAX))
        .await;
    assert!(
        e.to_string().contains("would pass the largest version"),
        "{e}"
    );

    // Checked in the database for "any version": a stream at the edge.
    let edge = new_stream();
    support::insert_raw_event(&f.db, f.tenant, edge, i64::MAX - 1, ("X", 1, "{}")).await;
    let mut req = request(f.tenant, edge, ExpectedVersion::Any, 2);
    let e = f.store.append(&req).await.expect_err("overflow");
    assert!(
        matches!(
            e,
            Error::VersionOverflow {
                version: 9_223_372_036_854_775_806,
                adding: 2,
                ..
            }
        ),
        "{e:?}"
    );
    req.events.truncate(1);
    let outcome = f
        .store
        .append(&req)
        .await
        .expect("exactly reaches the largest version");
    assert_eq!(outcome.stream_version, i64::MAX as u64);
}
