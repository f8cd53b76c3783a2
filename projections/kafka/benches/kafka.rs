//! `cargo bench -p deedlog-kafka --bench kafka` → `target/bench/kafka.json`.
//!
//! In one process, against one tansu broker on 127.0.0.1 (memory engine):
//! 1. a log of at least 1,000,000 generated events (DEEDLOG_BENCH_EVENTS);
//! 2. relay_events_per_s: the relay publishing that backlog until the
//!    broker has acknowledged the last event;
//! 3. broker_limit_events_per_s: a bare producer with the relay's settings
//!    sending ready-made messages of the same size, keys and partitions as
//!    fast as the broker acknowledges them (`tansu perf` prints no figure
//!    and Debian's kcat fails tansu's handshake);
//! 4. kafka_lag_p50_ms / kafka_lag_p99_ms: events appended at 2,000/s for
//!    DEEDLOG_BENCH_SECS seconds into a second log, relayed, and applied
//!    by a group member to every read model; the delay from the event's
//!    commit in the log to the commit of the read-model batch holding it.

#[path = "../../../tests/src/kafka_broker.rs"]
#[allow(dead_code)]
mod broker;
#[path = "../tests/kafka/support.rs"]
#[allow(dead_code)]
mod support;

use deedlog_eventstore::RecordedEvent;
use deedlog_kafka::{config, format, ConsumerOptions, KafkaProjector, Relay, RelayOptions};
use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{kafka_settings, Positions, TestDb, Workload};
use tokio_util::sync::CancellationToken;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let target = env_u64("DEEDLOG_BENCH_EVENTS", 1_000_000);
    let lag_secs = env_u64("DEEDLOG_BENCH_SECS", 10);
    let broker = broker::Broker::start().await;

    // 1. The backlog, written by four writers.
    let db = Arc::new(TestDb::new().await);
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4u64 {
        let db = db.clone();
        writers.spawn(async move {
            let mut workload = Workload::new(&db, 5, 0x5eed + w).await;
            let mut appended = 0;
            while appended < target / 4 {
                appended += workload.append(&db, 50).await;
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let events = db.positions().await.len() as u64;
    println!(
        "log: {events} events in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // 2. The relay through the backlog.
    let settings = kafka_settings(&broker.brokers(), 12);
    let relay = Relay::start(db.reader.clone(), settings.clone(), RelayOptions::default())
        .await
        .expect("relay");
    let stats = relay.stats();
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(relay.run_until_stopped(shutdown.clone()));
    let head = *db.positions().await.last().expect("events");
    while stats.acknowledged.load(Ordering::Relaxed) < head {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let relay_secs = started.elapsed().as_secs_f64();
    let relay_rate = events as f64 / relay_secs;
    println!("relay: {events} events in {relay_secs:.1}s = {relay_rate:.0} events/s");
    shutdown.cancel();
    task.await.expect("relay stops");

    // 3. The broker's own limit for the same messages.
    let sample = db
        .reader
        .read_all(0, 5_000)
        .await
        .expect("sample of the log");
    let limit_rate = broker_limit(&broker.brokers(), &sample, events.min(500_000)).await;
    println!("broker limit: {limit_rate:.0} events/s");

    // 4. Lag at 2,000 events/s through Kafka.
    let (p50, p99, applied) = lag(&broker.brokers(), lag_secs).await;
    println!(
        "lag through Kafka at 2,000 events/s: p50 {p50:.1} ms, p99 {p99:.1} ms ({applied} samples)"
    );

    let json = serde_json::json!({
        "relay_events_per_s": relay_rate.round(),
        "broker_limit_events_per_s": limit_rate.round(),
        "relay_vs_broker": relay_rate / limit_rate,
        "kafka_lag_p50_ms": (p50 * 10.0).round() / 10.0,
        "kafka_lag_p99_ms": (p99 * 10.0).round() / 10.0,
        "backlog_events": events,
        "lag_rate_events_per_s": 2000,
        "lag_samples": applied,
        "broker": "tansu 0.6.0, memory engine, 127.0.0.1",
        "partitions": 12,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::write(
        dir.join("kafka.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write kafka.json");
    println!("{json}");
    if let Ok(db) = Arc::try_unwrap(db) {
        drop(db);
    }
}

/// Sends `count` messages built from `sample` (cycled) with the relay's
/// producer settings, as fast as acknowledgements come back.
async fn broker_limit(brokers: &str, sample: &[RecordedEvent], count: u64) -> f64 {
    let settings = kafka_settings(brokers, 12);
    deedlog_kafka::topic::ensure(&settings)
        .await
        .expect("topic");
    let producer: FutureProducer = config::producer(&settings).expect("producer");
    let messages: Vec<(String, Vec<u8>, i32, &RecordedEvent)> = sample
        .iter()
        .map(|e| {
            (
                format::key(e),
                format::value(e).expect("value"),
                format::partition_of(e.tenant_id, 12),
                e,
            )
        })
        .collect();
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for i in 0..count as usize {
        let (key, value, partition, event) = &messages[i % messages.len()];
        loop {
            let record = FutureRecord::to(&settings.topic)
                .key(key)
                .payload(value)
                .partition(*partition)
                .headers(format::headers(event));
            match producer.send_result(record) {
                Ok(delivery) => {
                    in_flight.push(delivery);
                    break;
                }
                Err(_) => {
                    in_flight.next().await;
                }
            }
        }
        while in_flight.len() >= 100_000 {
            in_flight.next().await;
        }
    }
    while let Some(done) = in_flight.next().await {
        done.expect("delivered").expect("acknowledged");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// Appends at 2,000 events/s into a fresh log with a relay and one group
/// member running; the applied events' delays, sorted.
async fn lag(brokers: &str, secs: u64) -> (f64, f64, usize) {
    let log = TestDb::new().await;
    let models = TestDb::new().await;
    let settings = kafka_settings(brokers, 12);
    let shutdown = CancellationToken::new();
    let relay = Relay::start(
        log.reader.clone(),
        settings.clone(),
        RelayOptions::default(),
    )
    .await
    .expect("relay");
    let relay = tokio::spawn(relay.run_until_stopped(shutdown.clone()));
    let sink = Arc::new(Mutex::new(Vec::new()));
    let member = KafkaProjector::start(
        deedlog_projector::projections::all(),
        models.pool.clone(),
        settings,
        ConsumerOptions::default(),
    )
    .await
    .expect("group member")
    .record_lag(sink.clone());
    let member = tokio::spawn(member.run_until_stopped(shutdown.clone()));
    let mut workload = Workload::new(&log, 5, 99).await;
    // Warm up: the group joins and the schemas are in use.
    workload.append(&log, 20).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    sink.lock().expect("sink").clear();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while started.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * 2000.0) as u64;
        while sent < due {
            sent += workload.append(&log, 1).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    shutdown.cancel();
    relay.await.expect("relay stops");
    member.await.expect("member stops");
    let mut samples = std::mem::take(&mut *sink.lock().expect("sink"));
    samples.sort_by(f64::total_cmp);
    // Six projections each record every event: the slowest is the one a
    // reader waits for, and all six are in the distribution.
    let result = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.len(),
    );
    drop(log);
    drop(models);
    result
}
