//! Event store benchmark, against the PostgreSQL on 127.0.0.1:5432 (or
//! `DEEDLOG_BENCH_ADMIN_URL`), in one process, with durable commits:
//!
//! * single-event appends/s with 1, 16 and 64 concurrent writers, through
//!   the services' default group commit (ADR 0043), and with 16 and 64
//!   writers each alone;
//! * the same 16-writer workload through cqrs-es + postgres-es 0.5 (the peer)
//!   and as a raw single-row INSERT into a table of the same shape;
//! * 100-event appends (events/s), read-all (events/s), and loading a
//!   1,000-event stream (p50/p99 ms).
//!
//! Prints a table and writes `target/bench/eventstore.json` at the workspace root.
//! `DEEDLOG_BENCH_SECS` sets each throughput run's length (default 5).

use chrono::Utc;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, GroupCommit, LogReader, NewEvent,
    StreamQuery, Upcasters,
};
use deedlog_kernel::{CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId};
use postgres_es::PostgresEventRepository;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const BENCH_DB: &str = "deedlog_bench";
const PEER_DB: &str = "deedlog_bench_peer";

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let seconds: u64 = std::env::var("DEEDLOG_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let run = Duration::from_secs(seconds);
    let admin = admin_options();
    let bench = fresh_database(&admin, BENCH_DB).await;
    deedlog_eventstore::migrate(&bench)
        .await
        .expect("migrate bench database");
    let owner = pool(&bench, 17).await;
    create_raw_table(&owner).await;
    let peer_options = fresh_database(&admin, PEER_DB).await;
    let peer_pool = pool(&peer_options, 20).await;
    create_peer_tables(&peer_pool).await;
    let sync_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&owner)
        .await
        .expect("show setting");
    println!(
        "deedlog event store benchmark: {seconds} s per run, synchronous_commit = {sync_commit}"
    );

    // PostgreSQL allows 100 connections here: each run gets its own pool, closed after.
    let store = connect_store(&bench, 17).await;
    let tenant = TenantId::from_uuid(Uuid::now_v7());
    store
        .register_tenant(tenant)
        .await
        .expect("register tenant");

    let mut figures: Vec<(&str, String, f64)> = Vec::new();
    // As the command services append by default: through the group commit
    // (ADR 0043), a lone writer's append alone, concurrent ones together.
    for (writers, key) in [(1usize, "append_1"), (16, "append_16"), (64, "append_64")] {
        let store = connect_store(&bench, writers as u32 + 1).await;
        let grouped = store.clone().with_group_commit(group_commit());
        let rate = throughput(writers, run, |_| single_appender(grouped.clone(), tenant)).await;
        drop(grouped);
        store.app_pool().close().await;
        figures.push((
            key,
            format!("single-event appends, {writers} writers (events/s)"),
            rate,
        ));
    }
    // The single-append path, each append its own call and transaction.
    for (writers, key) in [(16usize, "append_16_alone"), (64, "append_64_alone")] {
        let store = connect_store(&bench, writers as u32 + 1).await;
        let rate = throughput(writers, run, |_| single_appender(store.clone(), tenant)).await;
        store.app_pool().close().await;
        figures.push((
            key,
            format!("single-event appends, each alone, {writers} writers (events/s)"),
            rate,
        ));
    }
    let peer = Arc::new(PostgresEventRepository::new(peer_pool.clone()));
    let rate = throughput(16, run, |_| peer_appender(peer.clone())).await;
    figures.push((
        "peer_append_16",
        "cqrs-es + postgres-es 0.5, 16 writers (events/s)".into(),
        rate,
    ));
    let framework = Arc::new(postgres_es::postgres_cqrs::<peer::Property>(
        peer_pool.clone(),
        vec![],
        (),
    ));
    let rate = throughput(16, run, |_| peer_executor(framework.clone())).await;
    figures.push((
        "peer_execute_16",
        "cqrs-es CqrsFramework::execute, 16 writers (events/s)".into(),
        rate,
    ));
    let rate = throughput(16, run, |_| raw_inserter(owner.clone(), tenant, 1)).await;
    figures.push((
        "raw_insert_16",
        "raw single-row INSERT, 16 writers (events/s)".into(),
        rate,
    ));
    let rate = throughput(4, run, |_| raw_inserter(owner.clone(), tenant, 100)).await;
    figures.push((
        "raw_batch100_events_per_s",
        "raw 100-row INSERT, 4 writers (events/s)".into(),
        rate,
    ));
    let rate = throughput(4, run, |_| batch_appender(store.clone(), tenant)).await;
    figures.push((
        "batch100_events_per_s",
        "100-event appends, 4 writers (events/s)".into(),
        rate,
    ));

    let reader = LogReader::connect(&store_options(&bench), Arc::new(Upcasters::new()))
        .await
        .expect("reader");
    let (events, rate) = read_all(&reader).await;
    figures.push((
        "read_all_events_per_s",
        format!("read all, {events} events (events/s)"),
        rate,
    ));
    let (p50, p99) = load_1000(&store, tenant).await;
    figures.push((
        "load1000_p50_ms",
        "load a 1,000-event stream, p50 (ms)".into(),
        p50,
    ));
    figures.push((
        "load1000_p99_ms",
        "load a 1,000-event stream, p99 (ms)".into(),
        p99,
    ));

    report(&figures);
    owner.close().await;
    peer_pool.close().await;
}

/// The services' group commit, or `DEEDLOG_BENCH_IN_FLIGHT` batches in
/// flight (to measure the setting).
fn group_commit() -> GroupCommit {
    let default = GroupCommit::default();
    GroupCommit {
        in_flight: std::env::var("DEEDLOG_BENCH_IN_FLIGHT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default.in_flight),
        ..default
    }
}

/// The admin connection as deedlog makes connections (no TLS on loopback
/// unless the URL asks for it); the peer and the raw inserts get the same.
fn admin_options() -> PgConnectOptions {
    let url = std::env::var("DEEDLOG_BENCH_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    ConnectOptions::from_url(&url)
        .expect("DEEDLOG_BENCH_ADMIN_URL is a PostgreSQL URL")
        .connect
}

async fn fresh_database(admin: &PgConnectOptions, name: &str) -> PgConnectOptions {
    let mut conn = admin.connect().await.expect("connect as admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop old bench database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create bench database");
    conn.close().await.expect("close admin connection");
    admin.clone().database(name)
}

async fn pool(options: &PgConnectOptions, size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .connect_with(options.clone())
        .await
        .expect("connect pool")
}

fn store_options(options: &PgConnectOptions) -> ConnectOptions {
    ConnectOptions {
        connect: options.clone(),
        max_connections: 17,
        acquire_timeout: Duration::from_secs(30),
        app_role: "deedlog_app".into(),
        reader_role: "deedlog_log_reader".into(),
    }
}

async fn connect_store(options: &PgConnectOptions, size: u32) -> EventStore {
    let mut options = store_options(options);
    options.max_connections = size;
    EventStore::connect(&options, Arc::new(Upcasters::new()))
        .await
        .expect("connect store")
}

/// A realistic small payload: an asking-price change.
fn payload(n: u64) -> Value {
    json!({
        "property_id": "0192f0c4-1111-7bbb-8ccc-000000000001",
        "previous": { "amount_minor": 45_000_000 + n, "currency": "EUR" },
        "current": { "amount_minor": 43_000_000 + n, "currency": "EUR" },
        "reason": "market feedback after viewings",
    })
}

fn append_request(tenant: TenantId, stream: StreamId, version: u64, count: u64) -> AppendRequest {
    AppendRequest {
        fingerprint: None,
        stream_id: stream,
        stream_type: "property".into(),
        expected: ExpectedVersion::Exact(version),
        metadata: CommandMetadata {
            tenant_id: tenant,
            actor: "user:0192f0c4-aaaa-7bbb-8ccc-000000000001".into(),
            command_id: CommandId::from_uuid(Uuid::now_v7()),
            correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
            causation_id: CausationId::from_uuid(Uuid::now_v7()),
            occurred_at: Utc::now(),
            trace: None,
        },
        events: (0..count)
            .map(|i| {
                NewEvent::new("AskingPriceChanged", 1, &payload(version + i)).expect("serialises")
            })
            .collect(),
    }
}

/// Runs `throughput_once` three times and returns the median, so one
/// disturbance on a shared 2-core machine does not make the figure.
async fn throughput<S, F>(writers: usize, run: Duration, make: impl Fn(usize) -> S) -> f64
where
    S: FnMut() -> F + Send + 'static,
    F: Future<Output = u64> + Send,
{
    let mut rates = Vec::new();
    for _ in 0..3 {
        checkpoint().await;
        rates.push(throughput_once(writers, run, &make).await);
    }
    rates.sort_by(f64::total_cmp);
    rates[1]
}

/// Starts each run from a fresh checkpoint, so no run pays for another's
/// dirty pages or lands in the middle of a checkpoint by chance.
async fn checkpoint() {
    let mut conn = admin_options().connect().await.expect("connect as admin");
    sqlx::query("CHECKPOINT")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
    conn.close().await.expect("close admin connection");
}

/// Runs `writers` concurrent loops for `run`; each call of a loop's step
/// returns how many events it wrote. Returns events per second.
async fn throughput_once<S, F>(writers: usize, run: Duration, make: &impl Fn(usize) -> S) -> f64
where
    S: FnMut() -> F + Send + 'static,
    F: Future<Output = u64> + Send,
{
    let start = Instant::now();
    let deadline = start + run;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let mut step = make(w);
            tokio::spawn(async move {
                let mut events = 0;
                while Instant::now() < deadline {
                    events += step().await;
                }
                events
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("writer task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// One writer appending one event at a time to its own stream.
fn single_appender(
    store: EventStore,
    tenant: TenantId,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    appender(store, tenant, 1)
}

fn batch_appender(
    store: EventStore,
    tenant: TenantId,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    appender(store, tenant, 100)
}

fn appender(
    store: EventStore,
    tenant: TenantId,
    per_append: u64,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    let stream = StreamId::from_uuid(Uuid::now_v7());
    let version = Arc::new(std::sync::atomic::AtomicU64::new(0));
    move || {
        let (store, version) = (store.clone(), version.clone());
        Box::pin(async move {
            let current = version.load(std::sync::atomic::Ordering::Relaxed);
            let outcome = store
                .append(&append_request(tenant, stream, current, per_append))
                .await
                .expect("append");
            version.store(outcome.stream_version, std::sync::atomic::Ordering::Relaxed);
            per_append
        })
    }
}

/// The raw table: the events table's columns and indexes, no function, no trigger, no RLS.
async fn create_raw_table(owner: &PgPool) {
    sqlx::query(
        "CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
    )
    .execute(owner)
    .await
    .expect("create raw table");
}

/// Inserts `rows` rows per statement: one for the single-event limit, 100
/// (from an array, as `append_events` does) for the batch limit.
fn raw_inserter(
    owner: PgPool,
    tenant: TenantId,
    rows: u64,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    let stream = Uuid::now_v7();
    let version = Arc::new(std::sync::atomic::AtomicU64::new(0));
    move || {
        let (owner, version) = (owner.clone(), version.clone());
        Box::pin(async move {
            let first = version.fetch_add(rows, std::sync::atomic::Ordering::Relaxed) + 1;
            let payloads: Vec<String> = (first..first + rows)
                .map(|v| payload(v).to_string())
                .collect();
            sqlx::query(
                "INSERT INTO raw_events (tenant_id, stream_id, stream_type, version, event_type, schema_version, \
                 payload, actor, command_id, correlation_id, causation_id, occurred_at, recorded_at) \
                 SELECT $1, $2, 'property', $3 + p.ord - 1, 'AskingPriceChanged', 1, p.payload, $5, $6, $7, $8, \
                 $9, clock_timestamp() FROM unnest($4::text[]::json[]) WITH ORDINALITY AS p(payload, ord)",
            )
            .bind(tenant.as_uuid())
            .bind(stream)
            .bind(first as i64)
            .bind(payloads)
            .bind("user:0192f0c4-aaaa-7bbb-8ccc-000000000001")
            .bind(Uuid::now_v7())
            .bind(Uuid::now_v7())
            .bind(Uuid::now_v7())
            .bind(Utc::now())
            .execute(&owner)
            .await
            .expect("raw insert");
            rows
        })
    }
}

/// The peer's schema, from postgres-es' `db/init.sql`.
async fn create_peer_tables(pool: &PgPool) {
    for sql in [
        "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
         sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL, event_version text NOT NULL, \
         payload json NOT NULL, metadata json NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
        "CREATE TABLE snapshots (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
         last_sequence bigint CHECK (last_sequence >= 0) NOT NULL, current_snapshot bigint \
         CHECK (current_snapshot >= 0) NOT NULL, payload json NOT NULL, \
         PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
    ] {
        sqlx::query(sql).execute(pool).await.expect("create peer table");
    }
}

fn peer_appender(
    repo: Arc<PostgresEventRepository>,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    let aggregate_id = Uuid::now_v7().to_string();
    let sequence = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let metadata = json!({
        "actor": "user:0192f0c4-aaaa-7bbb-8ccc-000000000001",
        "command_id": Uuid::now_v7(), "correlation_id": Uuid::now_v7(), "causation_id": Uuid::now_v7(),
    });
    move || {
        let (repo, sequence) = (repo.clone(), sequence.clone());
        let (aggregate_id, metadata) = (aggregate_id.clone(), metadata.clone());
        Box::pin(async move {
            let n = sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let event = SerializedEvent::new(
                aggregate_id,
                n,
                peer::Property::TYPE_NAME.into(),
                "AskingPriceChanged".into(),
                "1.0".into(),
                payload(n as u64),
                metadata,
            );
            repo.persist::<peer::Property>(&[event], None)
                .await
                .expect("peer persist");
            1
        })
    }
}

/// A cqrs-es user's append: `CqrsFramework::execute` loads the aggregate
/// (every event so far; no snapshots) and then persists one event.
fn peer_executor(
    framework: Arc<postgres_es::PostgresCqrs<peer::Property>>,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    let aggregate_id = Uuid::now_v7().to_string();
    move || {
        let (framework, aggregate_id) = (framework.clone(), aggregate_id.clone());
        Box::pin(async move {
            framework
                .execute(&aggregate_id, payload(1))
                .await
                .expect("peer execute");
            1
        })
    }
}

async fn read_all(reader: &LogReader) -> (u64, f64) {
    let start = Instant::now();
    let (mut position, mut events) = (0, 0u64);
    loop {
        let batch = reader.read_all(position, 5000).await.expect("read all");
        let Some(last) = batch.last() else { break };
        position = last.position;
        events += batch.len() as u64;
    }
    (events, events as f64 / start.elapsed().as_secs_f64())
}

async fn load_1000(store: &EventStore, tenant: TenantId) -> (f64, f64) {
    let stream = StreamId::from_uuid(Uuid::now_v7());
    store
        .append(&append_request(tenant, stream, 0, 1000))
        .await
        .expect("seed 1,000-event stream");
    for _ in 0..20 {
        store
            .read_stream(tenant, stream, StreamQuery::ALL)
            .await
            .expect("warm up");
    }
    let mut samples: Vec<f64> = Vec::new();
    for _ in 0..300 {
        let start = Instant::now();
        let events = store
            .read_stream(tenant, stream, StreamQuery::ALL)
            .await
            .expect("load");
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(events.len(), 1000);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn report(figures: &[(&str, String, f64)]) {
    println!("\n{:<58} {:>14}", "measure", "value");
    for (_, label, value) in figures {
        println!("{label:<58} {value:>14.2}");
    }
    let value = |key: &str| {
        figures
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(0.0, |(_, _, v)| *v)
    };
    println!(
        "\n16 writers vs peer: {:.2}x persist, {:.2}x execute (target >= 3x); \
         vs raw INSERT: {:.2}x (target >= 0.45x)",
        value("append_16") / value("peer_append_16"),
        value("append_16") / value("peer_execute_16"),
        value("append_16") / value("raw_insert_16")
    );
    println!(
        "100-event appends vs raw 100-row INSERT: {:.2}x",
        value("batch100_events_per_s") / value("raw_batch100_events_per_s")
    );
    let json: serde_json::Map<String, Value> = figures
        .iter()
        .map(|(key, _, value)| ((*key).to_owned(), json!((value * 100.0).round() / 100.0)))
        .collect();
    let dir = workspace_root().join("target").join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("eventstore.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
        .expect("write figures");
    println!("figures written to {}", path.display());
}

/// The workspace root, whatever directory the bench runs in.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The peer's aggregate: every command becomes one event.
mod peer {
    use cqrs_es::event_sink::EventSink;
    use cqrs_es::{Aggregate, DomainEvent};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, Serialize, Deserialize)]
    pub struct Property;

    impl Property {
        pub const TYPE_NAME: &'static str = "property";
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct AskingPriceChanged(pub serde_json::Value);

    impl DomainEvent for AskingPriceChanged {
        fn event_type(&self) -> String {
            "AskingPriceChanged".into()
        }
        fn event_version(&self) -> String {
            "1.0".into()
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("never raised: every command is accepted")]
    pub struct Never;

    impl Aggregate for Property {
        const TYPE: &'static str = Property::TYPE_NAME;
        type Command = serde_json::Value;
        type Event = AskingPriceChanged;
        type Error = Never;
        type Services = ();

        async fn handle(
            &mut self,
            command: serde_json::Value,
            _services: &(),
            sink: &EventSink<Self>,
        ) -> Result<(), Never> {
            sink.write(AskingPriceChanged(command), self).await;
            Ok(())
        }

        fn apply(&mut self, _event: AskingPriceChanged) {}
    }
}
