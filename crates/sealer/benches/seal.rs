//! Seal benchmark (issue 20), against the PostgreSQL on 127.0.0.1:5432 (or
//! `DEEDLOG_BENCH_ADMIN_URL`), in one process:
//!
//! * sealing a backlog of `DEEDLOG_BENCH_EVENTS` events (default 300,000);
//! * verifying it, against reading the whole log (`read_all`) in the same run;
//! * the seal lag while appenders add 2,000 events/s (p50/p99);
//! * 16-writer single-event appends without and with a caught-up sealer running.
//!
//! Writes `target/bench/seal.json` at the workspace root.
//! `DEEDLOG_BENCH_SECS` sets each timed run's length (default 5).

use chrono::Utc;
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, NewEvent, Upcasters,
};
use deedlog_kernel::{CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId};
use deedlog_seal::SealingKey;
use deedlog_sealer::verify::{self, Scope};
use deedlog_sealer::{Sealer, SealerOptions};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::ConnectOptions as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const DB: &str = "deedlog_bench_seal";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let events = env_u64("DEEDLOG_BENCH_EVENTS", 300_000);
    let run = Duration::from_secs(env_u64("DEEDLOG_BENCH_SECS", 5));
    let admin: PgConnectOptions = std::env::var("DEEDLOG_BENCH_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
        .parse()
        .expect("admin URL");
    let mut conn = admin.connect().await.expect("connect as admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {DB}"))
        .execute(&mut conn)
        .await
        .expect("create");
    let options = admin.clone().database(DB);
    deedlog_eventstore::migrate(&options)
        .await
        .expect("migrate");
    let connect = ConnectOptions {
        connect: options.clone(),
        max_connections: 18,
        acquire_timeout: Duration::from_secs(30),
        app_role: "deedlog_app".into(),
        reader_role: "deedlog_log_reader".into(),
    };
    let store = EventStore::connect(&connect, Arc::new(Upcasters::new()))
        .await
        .expect("store");
    let tenant = TenantId::from_uuid(Uuid::now_v7());
    store.register_tenant(tenant).await.expect("tenant");
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.clone())
        .await
        .expect("owner pool");
    // The backlog, written in bulk: asking-price changes of many properties.
    sqlx::query(
        "INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version, \
                             payload, actor, command_id, correlation_id, causation_id, occurred_at, recorded_at) \
         SELECT $1, gen_random_uuid(), 'property', 1, 'AskingPriceChanged', 1, \
                json_build_object('from', json_build_object('amount_minor', 45000000 + n, 'currency', 'EUR'), \
                                  'to', json_build_object('amount_minor', 43000000 + n, 'currency', 'EUR')), \
                'user:0192f0c4-aaaa-7bbb-8ccc-000000000001', gen_random_uuid(), gen_random_uuid(), \
                gen_random_uuid(), now(), now() \
         FROM generate_series(1, $2) AS n",
    )
    .bind(tenant.as_uuid())
    .bind(i64::try_from(events).expect("events"))
    .execute(&owner)
    .await
    .expect("load the backlog");
    sqlx::query("VACUUM ANALYZE events")
        .execute(&owner)
        .await
        .expect("analyze");
    let reader = LogReader::connect(&connect, Arc::new(Upcasters::new()))
        .await
        .expect("reader");
    let key = SealingKey::from_seed([42; 32]);
    println!(
        "seal benchmark: {events} events, {} s per timed run",
        run.as_secs()
    );

    let started = Instant::now();
    let (mut at, mut read) = (0, 0u64);
    loop {
        let batch = reader.read_all(at, 5000).await.expect("read all");
        let Some(last) = batch.last() else { break };
        at = last.position;
        read += batch.len() as u64;
    }
    let read_all = read as f64 / started.elapsed().as_secs_f64();

    let sealer = Sealer::new(reader.clone(), key.clone(), SealerOptions::default());
    let started = Instant::now();
    sealer.catch_up().await.expect("seal");
    let seal = events as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let report = verify::verify(&reader, &[key.public()], Scope::default(), &mut |_, _| {})
        .await
        .expect("verify");
    assert!(report.is_intact(), "{:?}", report.problem);
    let verified = report.events as f64 / started.elapsed().as_secs_f64();

    let alone = appends(&store, tenant, 16, run).await;
    // Steady state: the sealer starts level with the log, then keeps up.
    sealer.catch_up().await.expect("seal");
    let running = Arc::new(AtomicBool::new(true));
    let background = {
        let (sealer, running) = (sealer.clone(), running.clone());
        tokio::spawn(async move {
            sealer
                .run(async move {
                    while running.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
                .await
        })
    };
    let with_sealer = appends(&store, tenant, 16, run).await;
    let lags = appends_lag(&store, tenant, &reader, run * 2).await;
    running.store(false, Ordering::Relaxed);
    background.await.expect("sealer task").expect("sealer");
    let at = |q: f64| lags[((lags.len() as f64 - 1.0) * q).round() as usize];

    let figures = [
        ("read_all_events_per_s", read_all),
        ("seal_events_per_s", seal),
        ("verify_events_per_s", verified),
        ("verify_vs_read_all", verified / read_all),
        ("seal_lag_p50_ms", at(0.50)),
        ("seal_lag_p99_ms", at(0.99)),
        ("append_16", alone),
        ("append_16_with_sealer", with_sealer),
        ("append_16_with_sealer_ratio", with_sealer / alone),
    ];
    for (key, value) in &figures {
        println!("{key:<30} {value:>14.2}");
    }
    let json: serde_json::Map<String, serde_json::Value> = figures
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!((v * 1000.0).round() / 1000.0)))
        .collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(
        dir.join("seal.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write");
    println!("figures written to {}", dir.join("seal.json").display());
}

/// One single-event append to a new stream.
async fn append_one(store: &EventStore, tenant: TenantId) -> (u64, Instant) {
    let request = AppendRequest {
        fingerprint: None,
        stream_id: StreamId::from_uuid(Uuid::now_v7()),
        stream_type: "property".into(),
        expected: ExpectedVersion::Exact(0),
        metadata: CommandMetadata {
            tenant_id: tenant,
            actor: "user:0192f0c4-aaaa-7bbb-8ccc-000000000001".into(),
            command_id: CommandId::from_uuid(Uuid::now_v7()),
            correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
            causation_id: CausationId::from_uuid(Uuid::now_v7()),
            occurred_at: Utc::now(),
            trace: None,
        },
        events: vec![NewEvent::new(
            "AskingPriceChanged",
            1,
            &json!({"to": {"amount_minor": 43_000_000, "currency": "EUR"}}),
        )
        .expect("event")],
    };
    let outcome = store.append(&request).await.expect("append");
    (outcome.last_position(), Instant::now())
}

/// Single-event appends/s of `writers` for `run`.
async fn appends(store: &EventStore, tenant: TenantId, writers: usize, run: Duration) -> f64 {
    let deadline = Instant::now() + run;
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    append_one(&store, tenant).await;
                    count += 1;
                }
                count
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("writer");
    }
    total as f64 / run.as_secs_f64()
}

/// The seal lag of each event appended at 2,000 events/s for `run`
/// (milliseconds from its append's acknowledgement until a seal covers
/// it), sorted.
async fn appends_lag(
    store: &EventStore,
    tenant: TenantId,
    reader: &LogReader,
    run: Duration,
) -> Vec<f64> {
    let appended = Arc::new(Mutex::new(Vec::<(u64, Instant)>::new()));
    let sealed = Arc::new(Mutex::new(Vec::<(Instant, u64)>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (pool, sealed, done) = (reader.pool().clone(), sealed.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let at: Option<i64> =
                    sqlx::query_scalar("SELECT max(last_position) FROM seal_blocks")
                        .fetch_one(&pool)
                        .await
                        .expect("sealed position");
                let at = at.map_or(0, |p| u64::try_from(p).unwrap_or(0));
                sealed.lock().expect("lock").push((Instant::now(), at));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // 8 writers, each an append every 4 ms: 2,000 events/s.
    let deadline = Instant::now() + run;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, appended) = (store.clone(), appended.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(4));
                while Instant::now() < deadline {
                    tick.tick().await;
                    let at = append_one(&store, tenant).await;
                    appended.lock().expect("lock").push(at);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    done.store(true, Ordering::Relaxed);
    watcher.await.expect("watcher");
    let sealed = sealed.lock().expect("lock").clone();
    let mut lags: Vec<f64> = appended
        .lock()
        .expect("lock")
        .iter()
        .map(|(position, at)| {
            let covered = sealed
                .iter()
                .find(|(_, through)| through >= position)
                .map_or_else(Instant::now, |(when, _)| *when);
            covered.saturating_duration_since(*at).as_secs_f64() * 1000.0
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    println!(
        "appended {} events at about 2,000/s while sealing",
        lags.len()
    );
    lags
}
