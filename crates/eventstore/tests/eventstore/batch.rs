//! Group commit (ADR 0040): several commands' appends in one transaction,
//! each with the outcome it would have had alone.

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{
    AppendOutcome, AppendRequest, Error, EventStore, ExpectedVersion, GroupCommit, StreamQuery,
};
use deedlog_kernel::{StreamId, TenantId};
use proptest::prelude::*;
use std::sync::Arc;
use uuid::Uuid;

fn outcome(result: &Result<AppendOutcome, Error>) -> &AppendOutcome {
    result.as_ref().expect("appended")
}

async fn versions(store: &EventStore, tenant: TenantId, stream: StreamId) -> Vec<u64> {
    store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect("read stream")
        .iter()
        .map(|e| e.version)
        .collect()
}

#[tokio::test]
async fn two_commands_on_one_stream_in_one_batch_decide_in_order() {
    let (_db, store, tenant, stream) = support::seeded(0).await;
    let first = request(tenant, stream, ExpectedVersion::NoStream, 2);
    let racing = request(tenant, stream, ExpectedVersion::NoStream, 1);
    let following = request(tenant, stream, ExpectedVersion::Exact(2), 1);
    let any = request(tenant, stream, ExpectedVersion::Any, 3);
    let answers = store.append_batch(&[first, racing, following, any]).await;

    assert_eq!(outcome(&answers[0]).stream_version, 2);
    match &answers[1] {
        Err(Error::Conflict {
            stream: s,
            expected,
            actual,
        }) => {
            assert_eq!(*s, stream);
            assert_eq!(*expected, ExpectedVersion::NoStream);
            assert_eq!(
                *actual, 2,
                "the loser is told the version the first one made"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(outcome(&answers[2]).stream_version, 3);
    assert_eq!(outcome(&answers[3]).stream_version, 6);
    assert_eq!(
        versions(&store, tenant, stream).await,
        vec![1, 2, 3, 4, 5, 6]
    );
    let positions: Vec<u64> = [0, 2, 3]
        .iter()
        .flat_map(|&i| outcome(&answers[i]).positions.clone())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "a stream's positions rise with its versions: {positions:?}"
    );
}

#[tokio::test]
async fn a_command_id_twice_in_one_batch_is_appended_once_and_answered_twice() {
    let (db, store, tenant, stream) = support::seeded(0).await;
    let mut first = request(tenant, stream, ExpectedVersion::NoStream, 1);
    first.fingerprint = Some([1; 32]);
    let first_id = first.metadata.command_id;
    let repeat = first.clone();
    let mut changed = first.clone();
    changed.fingerprint = Some([2; 32]);
    let mut elsewhere = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    elsewhere.metadata.command_id = first.metadata.command_id;
    let answers = store
        .append_batch(&[first, repeat, changed, elsewhere])
        .await;

    let appended = outcome(&answers[0]);
    assert!(!appended.duplicate);
    let repeated = outcome(&answers[1]);
    assert!(repeated.duplicate);
    assert_eq!(repeated.positions, appended.positions);
    assert_eq!(repeated.stream_version, appended.stream_version);
    assert!(
        matches!(answers[2], Err(Error::CommandMismatch { .. })),
        "another request under the same id: {:?}",
        answers[2]
    );
    assert!(
        matches!(answers[3], Err(Error::CommandIdReused { .. })),
        "the same id on another stream: {:?}",
        answers[3]
    );
    assert_eq!(db.count_events().await, 1);

    // A later batch repeating it gets the first outcome too.
    let mut again = request(tenant, stream, ExpectedVersion::NoStream, 1);
    again.metadata.command_id = first_id;
    let answers = store
        .append_batch(&[
            again,
            request(tenant, new_stream(), ExpectedVersion::Any, 1),
        ])
        .await;
    assert!(outcome(&answers[0]).duplicate);
    assert_eq!(outcome(&answers[0]).positions, appended.positions);
    assert_eq!(db.count_events().await, 2);
}

#[tokio::test]
async fn commands_of_several_tenants_share_a_batch_and_each_stays_in_its_tenant() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (support::tenant(&store).await, support::tenant(&store).await);
    let unknown = TenantId::from_uuid(Uuid::now_v7());
    let (sa, sb, su) = (new_stream(), new_stream(), new_stream());
    let answers = store
        .append_batch(&[
            request(a, sa, ExpectedVersion::NoStream, 1),
            request(b, sb, ExpectedVersion::NoStream, 2),
            request(unknown, su, ExpectedVersion::NoStream, 1),
            request(a, sa, ExpectedVersion::Exact(1), 1),
        ])
        .await;
    assert_eq!(outcome(&answers[0]).stream_version, 1);
    assert_eq!(outcome(&answers[1]).stream_version, 2);
    assert!(
        matches!(answers[2], Err(Error::UnknownTenant { tenant }) if tenant == unknown),
        "{:?}",
        answers[2]
    );
    assert_eq!(outcome(&answers[3]).stream_version, 2);
    assert_eq!(versions(&store, a, sa).await, vec![1, 2]);
    assert_eq!(versions(&store, b, sb).await, vec![1, 2]);
    assert!(
        versions(&store, b, sa).await.is_empty(),
        "a's stream is not b's"
    );
    assert!(
        versions(&store, a, sb).await.is_empty(),
        "b's stream is not a's"
    );
    assert_eq!(db.count_events().await, 4);
}

#[tokio::test]
async fn a_batch_that_hits_a_constraint_still_appends_every_other_command() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (support::tenant(&store).await, support::tenant(&store).await);
    let theirs = new_stream();
    store
        .append(&request(b, theirs, ExpectedVersion::NoStream, 1))
        .await
        .expect("b's stream");
    let (s1, s2) = (new_stream(), new_stream());
    // Tenant a cannot see b's stream: its append collides with b's row
    // (events_stream_version_key) and fails the batch's statement.
    let intruder = request(a, theirs, ExpectedVersion::NoStream, 1);
    let intruder_id = intruder.metadata.command_id;
    let answers = store
        .append_batch(&[
            request(a, s1, ExpectedVersion::NoStream, 1),
            intruder,
            request(a, s2, ExpectedVersion::NoStream, 2),
        ])
        .await;
    assert_eq!(outcome(&answers[0]).stream_version, 1);
    assert!(
        matches!(&answers[1], Err(Error::StreamNotInTenant { stream, tenant }) if *stream == theirs && *tenant == a),
        "{:?}",
        answers[1]
    );
    assert_eq!(outcome(&answers[2]).stream_version, 2);
    assert_eq!(db.count_events().await, 4, "b's one, and a's three");
    let owner = db.owner_pool().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE command_id = $1")
        .bind(intruder_id.as_uuid())
        .fetch_one(&owner)
        .await
        .expect("count");
    assert_eq!(stored, 0, "the refused command is not recorded");
    owner.close().await;
}

#[tokio::test]
async fn refusals_in_a_batch_store_nothing_and_refuse_nobody_else() {
    let (db, store, tenant, stream) = support::seeded(1).await;
    let mut other_type = request(tenant, stream, ExpectedVersion::Any, 1);
    other_type.stream_type = "deal".to_owned();
    let mut empty = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    empty.events.clear();
    let mut no_actor = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    no_actor.metadata.actor = "  ".to_owned();
    let stale = request(tenant, stream, ExpectedVersion::Exact(7), 1);
    let fine = request(tenant, new_stream(), ExpectedVersion::NoStream, 1);
    let answers = store
        .append_batch(&[other_type, empty, no_actor, stale, fine])
        .await;
    assert!(
        matches!(&answers[0], Err(Error::StreamTypeMismatch { existing, given, .. }) if existing == "property" && given == "deal"),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], Err(Error::EmptyAppend)),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], Err(Error::MissingActor)),
        "{:?}",
        answers[2]
    );
    assert!(
        matches!(answers[3], Err(Error::Conflict { actual: 1, .. })),
        "{:?}",
        answers[3]
    );
    assert_eq!(outcome(&answers[4]).stream_version, 1);
    assert_eq!(db.count_events().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_through_the_group_commit_share_transactions() {
    let db = TestDb::new().await;
    let store = db.store().await.with_group_commit(GroupCommit {
        max_batch: 64,
        in_flight: 2,
    });
    let tenant = support::tenant(&store).await;
    let store = Arc::new(store);
    let writers: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = new_stream();
                for version in 0..10 {
                    let outcome = store
                        .append(&request(tenant, stream, ExpectedVersion::Exact(version), 1))
                        .await
                        .expect("append");
                    assert_eq!(outcome.stream_version, version + 1);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let owner = db.owner_pool().await;
    // Every command of one batch is recorded at the batch's one instant.
    let largest: i64 = sqlx::query_scalar(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM commands GROUP BY recorded_at) b",
    )
    .fetch_one(&owner)
    .await
    .expect("batch sizes");
    assert!(largest > 1, "32 writers never shared a transaction");
    owner.close().await;
    assert_eq!(db.count_events().await, 320);
}

/// One command of a random batch: which of three streams, what it
/// expects, and whether it repeats an earlier command's id.
#[derive(Debug, Clone)]
struct Op {
    stream: usize,
    expected: Option<u64>,
    events: u64,
    repeats: Option<usize>,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0..3usize,
        prop_oneof![Just(None), (0..4u64).prop_map(Some)],
        1..3u64,
        prop_oneof![3 => Just(None), 1 => (0..8usize).prop_map(Some)],
    )
        .prop_map(|(stream, expected, events, repeats)| Op {
            stream,
            expected,
            events,
            repeats,
        })
}

/// What an answer says, without positions and instants (which differ
/// between two databases).
fn shape(answer: &Result<AppendOutcome, Error>) -> String {
    match answer {
        Ok(o) => format!(
            "ok v{} n{} dup {}",
            o.stream_version,
            o.positions.len(),
            o.duplicate
        ),
        Err(e) => format!("{e}"),
    }
}

fn requests(tenant: TenantId, streams: &[StreamId], ops: &[Op]) -> Vec<AppendRequest> {
    let mut out: Vec<AppendRequest> = Vec::new();
    for op in ops {
        let expected = match op.expected {
            None => ExpectedVersion::Any,
            Some(0) => ExpectedVersion::NoStream,
            Some(v) => ExpectedVersion::Exact(v),
        };
        let mut req = request(tenant, streams[op.stream], expected, op.events);
        if let Some(earlier) = op.repeats.and_then(|i| out.get(i % out.len().max(1))) {
            req.metadata.command_id = earlier.metadata.command_id;
        }
        out.push(req);
    }
    out
}

#[test]
fn a_batch_answers_exactly_as_the_same_commands_one_after_another() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (batched_db, alone_db) =
        runtime.block_on(async { (TestDb::new().await, TestDb::new().await) });
    let (batched, alone) =
        runtime.block_on(async { (batched_db.store().await, alone_db.store().await) });
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 2..24))| {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let streams: Vec<StreamId> = (0..3).map(|_| new_stream()).collect();
        let requests = requests(tenant, &streams, &ops);
        let (together, one_by_one) = runtime.block_on(async {
            batched.register_tenant(tenant).await.expect("register");
            alone.register_tenant(tenant).await.expect("register");
            let together = batched.append_batch(&requests).await;
            let mut one_by_one = Vec::new();
            for request in &requests {
                one_by_one.push(alone.append(request).await);
            }
            (together, one_by_one)
        });
        let together: Vec<String> = together.iter().map(shape).collect();
        let one_by_one: Vec<String> = one_by_one.iter().map(shape).collect();
        prop_assert_eq!(together, one_by_one);
        let (a, b) = runtime.block_on(async {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for &stream in &streams {
                a.push(versions(&batched, tenant, stream).await);
                b.push(versions(&alone, tenant, stream).await);
            }
            (a, b)
        });
        prop_assert_eq!(a, b);
    });
    runtime.block_on(async {
        batched.app_pool().close().await;
        alone.app_pool().close().await;
    });
    drop((batched_db, alone_db));
}

/// `append_batch` decides a call's commands against the heads as they
/// stood before it; a call that repeats a stream or a command id could not
/// be decided that way, so the function refuses it as a whole (the event
/// store puts repeats in later rounds and never sends one).
#[tokio::test]
async fn the_batch_function_refuses_a_call_that_repeats_a_stream_or_a_command_id() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = support::tenant(&store).await;
    let owner = db.owner_pool().await;
    let (s1, s2, c1, c2) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    for (streams, commands) in [([s1, s1], [c1, c2]), ([s1, s2], [c1, c1])] {
        let mut tx = owner.begin().await.expect("begin");
        sqlx::query("SET LOCAL ROLE deedlog_app")
            .execute(&mut *tx)
            .await
            .expect("act as the application");
        let refused = sqlx::query(
            "SELECT * FROM append_batch($1, $2, ARRAY['property', 'property'], ARRAY[NULL, NULL]::bigint[], \
             $3, ARRAY['user:x', 'user:x'], $3, $3, ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::text[], \
             ARRAY[now(), now()], ARRAY[NULL, NULL]::bytea[], ARRAY[1, 2], ARRAY[1, 1], \
             ARRAY['PropertyListed', 'PropertyListed'], ARRAY[1, 1], ARRAY['{}', '{}']::json[])",
        )
        .bind([tenant.as_uuid(), tenant.as_uuid()])
        .bind(streams)
        .bind(commands)
        .fetch_all(&mut *tx)
        .await
        .expect_err("a repeat is refused");
        let message = refused.to_string();
        assert!(
            message.contains("repeats a stream or a command id"),
            "{message}"
        );
        drop(tx);
    }
    assert_eq!(db.count_events().await, 0, "nothing was appended");
    owner.close().await;
}
