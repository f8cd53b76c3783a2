//! Property test: random appends and reads against the real log keep
//! versions contiguous per stream, positions increasing, and reads equal to
//! what was appended.

use crate::support::{self, TestDb};
use deedlog_eventstore::{
    AppendRequest, Error, EventStore, ExpectedVersion, NewEvent, StreamQuery,
};
use deedlog_kernel::{StreamId, TenantId};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    /// Append `count` events to stream `stream`, with the right or a stale expected version.
    Append {
        stream: usize,
        count: usize,
        stale: bool,
    },
    /// Read stream `stream` back whole.
    Read { stream: usize },
    /// Read the whole log.
    ReadAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..4, 1usize..5, proptest::bool::weighted(0.2))
            .prop_map(|(stream, count, stale)| Op::Append { stream, count, stale }),
        2 => (0usize..4).prop_map(|stream| Op::Read { stream }),
        1 => Just(Op::ReadAll),
    ]
}

/// What the model expects of each stream: its payloads in order.
type Model = HashMap<usize, Vec<Value>>;

async fn run(
    store: &EventStore,
    reader: &deedlog_eventstore::LogReader,
    tenant: TenantId,
    ops: Vec<Op>,
) {
    let streams: Vec<StreamId> = (0..4)
        .map(|_| StreamId::from_uuid(Uuid::now_v7()))
        .collect();
    let mut model = Model::new();
    let mut last_position = 0;
    for op in ops {
        match op {
            Op::Append {
                stream,
                count,
                stale,
            } => {
                let have = model.entry(stream).or_default();
                let version = have.len() as u64;
                let expected = if stale {
                    ExpectedVersion::Exact(version + 1)
                } else {
                    ExpectedVersion::Exact(version)
                };
                let payloads: Vec<Value> = (0..count)
                    .map(|i| json!({ "v": version + 1 + i as u64, "r": Uuid::now_v7() }))
                    .collect();
                let mut req: AppendRequest = support::request(tenant, streams[stream], expected, 0);
                req.events = payloads
                    .iter()
                    .map(|p| NewEvent::new("Changed", 1, p).expect("json"))
                    .collect();
                match store.append(&req).await {
                    Ok(outcome) => {
                        assert!(!stale, "a stale version must not be accepted");
                        assert_eq!(outcome.stream_version, version + count as u64);
                        assert!(outcome.positions.windows(2).all(|w| w[0] < w[1]));
                        assert!(outcome.positions[0] > last_position, "positions increase");
                        last_position = outcome.last_position();
                        have.extend(payloads);
                    }
                    Err(Error::Conflict { actual, .. }) => {
                        assert!(stale);
                        assert_eq!(actual, version);
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
            Op::Read { stream } => {
                let events = store
                    .read_stream(tenant, streams[stream], StreamQuery::ALL)
                    .await
                    .expect("read");
                let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
                let expected = model.get(&stream).cloned().unwrap_or_default();
                assert_eq!(
                    versions,
                    (1..=expected.len() as u64).collect::<Vec<_>>(),
                    "contiguous versions"
                );
                let payloads: Vec<Value> = events
                    .iter()
                    .map(|e| e.payload_as().expect("json"))
                    .collect();
                assert_eq!(payloads, expected, "reads equal what was appended");
                assert!(events.windows(2).all(|w| w[0].position < w[1].position));
            }
            Op::ReadAll => {
                let all = reader.read_all(0, 100_000).await.expect("read all");
                assert!(all.windows(2).all(|w| w[0].position < w[1].position));
                for (i, stream) in streams.iter().enumerate() {
                    let n = all.iter().filter(|e| e.stream_id == *stream).count();
                    assert_eq!(n, model.get(&i).map_or(0, Vec::len));
                }
            }
        }
    }
}

#[test]
fn random_appends_and_reads_keep_the_log_consistent() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (db, store, reader) = runtime.block_on(async {
        let db = TestDb::new().await;
        let store = db.store().await;
        let reader = db.reader().await;
        (db, store, reader)
    });
    let config = ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
        // Each case uses fresh streams of a fresh tenant.
        let tenant = runtime.block_on(support::tenant(&store));
        runtime.block_on(run(&store, &reader, tenant, ops));
    });
    drop(db);
}
