//! Projectors as a consumer group: two processes build read models equal,
//! table by table, to those the PostgreSQL source builds; one killed
//! mid-stream, the other takes its partitions, every event applied exactly
//! once in effect.

use crate::broker::Broker;
use crate::relay::options as relay_options;
use crate::support::{eventually, kafka_settings, TestDb, Workload};
use deedlog_kafka::{ConsumerOptions, KafkaProjector, Relay};
use deedlog_projector::{projections, schema, Runner, RunnerOptions};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Each projection table's rows as one digest, and the dead letters.
async fn fingerprint(db: &TestDb) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for projection in projections::all() {
        let live = schema::live(projection.name());
        let mut conn = db.pool.acquire().await.expect("connection");
        let tables = schema::keyed_tables(&mut conn, &live, projection.as_ref())
            .await
            .expect("tables");
        for table in tables {
            let digest: String = sqlx::query_scalar(&format!(
                "SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), 'empty') \
                 FROM {live}.{} t",
                table.name
            ))
            .fetch_one(&mut *conn)
            .await
            .expect("digest");
            out.push((format!("{live}.{}", table.name), digest));
        }
    }
    let letters: String = sqlx::query_scalar(
        "SELECT coalesce(md5(string_agg(format('%s %s %s', projection, position, error), E'\\n' \
           ORDER BY projection, position)), 'none') FROM deedlog_read.dead_letters",
    )
    .fetch_one(&db.pool)
    .await
    .expect("dead letters");
    out.push(("dead letters".into(), letters));
    out
}

/// The relay publishing `log` to the topic until `shutdown`.
async fn spawn_relay(
    log: &TestDb,
    settings: &deedlog_runtime::settings::KafkaSettings,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let relay = Relay::start(log.reader.clone(), settings.clone(), relay_options())
        .await
        .expect("relay");
    tokio::spawn(relay.run_until_stopped(shutdown.clone()))
}

fn group_member(
    db: &TestDb,
    settings: &deedlog_runtime::settings::KafkaSettings,
) -> impl std::future::Future<Output = KafkaProjector> {
    // A pool of its own, as a separate process would have: a member
    // aborted mid-query must not hand a half-used connection to others.
    let (options, settings) = (db.options.clone(), settings.clone());
    async move {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("member pool");
        KafkaProjector::start(
            projections::all(),
            pool,
            settings,
            ConsumerOptions {
                batch_size: 100,
                linger: Duration::from_millis(5),
                backoff_min: Duration::from_millis(50),
                backoff_max: Duration::from_millis(500),
                keyring: None,
            },
        )
        .await
        .expect("group member starts")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_two_builds_the_read_models_of_the_log_and_survives_losing_one() {
    let broker = Broker::start().await;
    let mut settings = kafka_settings(&broker.brokers(), 4);
    // tansu 0.6.0's memory engine returns nothing for a fetch that starts
    // inside a multi-message record batch, which is exactly where a member
    // taking over a partition resumes; one message per batch keeps every
    // stored offset on a batch boundary (ADR 0014; Apache Kafka needs none).
    settings
        .producer
        .insert("batch.num.messages".into(), "1".into());
    group_of_two(settings).await;
}

/// The same case with the relay batching as in production, where the
/// survivor resumes inside a record batch: tansu cannot serve that fetch, so
/// this runs against librdkafka's built-in mock cluster — not a broker, the
/// client library's own stand-in (ADR 0014).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_cluster_a_survivor_resumes_inside_a_record_batch() {
    let cluster = rdkafka::mocking::MockCluster::new(1).expect("librdkafka mock cluster");
    let settings = kafka_settings(&cluster.bootstrap_servers(), 4);
    group_of_two(settings).await;
    drop(cluster);
}

async fn group_of_two(settings: deedlog_runtime::settings::KafkaSettings) {
    let log = TestDb::new().await;
    // The group's read models live in a database of their own: with Kafka,
    // projectors need no connection to the log at all.
    let models = TestDb::new().await;
    let mut workload = Workload::new(&log, 8, 7).await;
    workload.append(&log, 120).await;

    let shutdown = CancellationToken::new();
    let runner = Runner::new(
        projections::all(),
        log.pool.clone(),
        log.reader.clone(),
        RunnerOptions::default(),
    );
    runner.prepare().await.expect("schemas");
    let from_log = tokio::spawn(runner.run_until_stopped(shutdown.clone()));
    let relay = spawn_relay(&log, &settings, &shutdown).await;

    let first = group_member(&models, &settings).await;
    let first_stats = first.stats().clone();
    let doomed = CancellationToken::new();
    let first = tokio::spawn(first.run_until_stopped(doomed.clone()));
    let second = group_member(&models, &settings).await;
    let second = tokio::spawn(second.run_until_stopped(shutdown.clone()));

    workload.append(&log, 120).await;
    eventually(60, "the first member applies something", || async {
        first_stats
            .values()
            .any(|s| s.events.load(Ordering::Relaxed) > 0)
    })
    .await;
    workload.append(&log, 60).await;
    // Killed mid-stream: its open transaction, if any, is rolled back.
    first.abort();
    let _ = first.await;
    workload.append(&log, 120).await;

    // Where each partition ends: the last position of its tenants' events.
    let events: Vec<(i64, uuid::Uuid)> =
        sqlx::query_as("SELECT position, tenant_id FROM events ORDER BY position")
            .fetch_all(&log.pool)
            .await
            .expect("events");
    let mut ends = std::collections::BTreeMap::new();
    for (position, tenant) in events {
        let partition = deedlog_kafka::format::partition_of(tenant.into(), 4);
        ends.insert(partition, position);
    }
    let head = ends.values().copied().max().expect("events");
    let ends: Vec<(i32, i64)> = ends.into_iter().collect();
    let mut last = Vec::new();
    let converged = async {
        loop {
            let (a, b) = (fingerprint(&log).await, fingerprint(&models).await);
            // Every projection has applied every partition to its end.
            let mut applied = true;
            for projection in projections::all() {
                let offsets: Vec<(i32, i64)> = sqlx::query_as(&format!(
                    "SELECT partition, last_position FROM {}.source_offsets ORDER BY partition",
                    schema::live(projection.name())
                ))
                .fetch_all(&models.pool)
                .await
                .unwrap_or_default();
                // Every partition with events applied to its end (the
                // watermarks raise partitions without events to the head).
                applied &= ends.iter().all(|(p, end)| {
                    offsets
                        .iter()
                        .find(|(o, _)| o == p)
                        .is_some_and(|(_, last)| last >= end)
                });
                let checkpoint: i64 = sqlx::query_scalar(&format!(
                    "SELECT position FROM {}.checkpoint",
                    schema::live(projection.name())
                ))
                .fetch_one(&models.pool)
                .await
                .expect("checkpoint");
                applied &= checkpoint == head;
            }
            if a == b && applied {
                return;
            }
            last = a
                .into_iter()
                .zip(b)
                .filter(|(x, y)| x != y)
                .map(|(x, _)| x.0)
                .collect();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(120), converged)
        .await
        .is_err()
    {
        panic!("the group never caught up with the log (offsets or checkpoints behind) or its read models differ: {last:?}");
    }
    shutdown.cancel();
    for task in [from_log, relay, second] {
        task.await.expect("stops");
    }
    drop(doomed);
    drop(log);
    drop(models);
}

/// A member told to stop while its broker is away stops at once: leaving
/// the group waits for a broker, and that wait is not the runtime's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_stops_at_once_while_its_broker_is_away() {
    let broker = Broker::start().await;
    let settings = kafka_settings(&broker.brokers(), 4);
    let log = TestDb::new().await;
    let models = TestDb::new().await;
    let mut workload = Workload::new(&log, 4, 11).await;
    workload.append(&log, 40).await;
    let shutdown = CancellationToken::new();
    let relay = spawn_relay(&log, &settings, &shutdown).await;
    let member = group_member(&models, &settings).await;
    let stats = member.stats().clone();
    let stopping = CancellationToken::new();
    let member = tokio::spawn(member.run_until_stopped(stopping.clone()));
    eventually(60, "the member applies something", || async {
        stats.values().any(|s| s.events.load(Ordering::Relaxed) > 0)
    })
    .await;
    broker.go_away();
    stopping.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(10), member).await;
    assert!(
        stopped.is_ok(),
        "the member was still stopping 10 s after it was told to"
    );
    shutdown.cancel();
    relay.await.expect("the relay stops");
}

/// Members starting together all read their offsets: the first read
/// creates the offsets table, and two at once used to fail one member with
/// a duplicate key in PostgreSQL's catalog (it rejoined the group).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_starting_together_all_read_their_offsets() {
    let models = TestDb::new().await;
    let runner = Runner::new(
        projections::all(),
        models.pool.clone(),
        models.reader.clone(),
        RunnerOptions::default(),
    );
    runner.prepare().await.expect("schemas");
    let live = schema::live(projections::all()[0].name());
    let mut members = tokio::task::JoinSet::new();
    for partition in 0..8 {
        let (pool, live) = (models.pool.clone(), live.clone());
        members.spawn(async move {
            let mut conn = pool.acquire().await.expect("connection");
            deedlog_projector::partition::load(&mut conn, &live, "deedlog.test", partition).await
        });
    }
    for read in members.join_all().await {
        read.expect("every member reads its offset");
    }
}
