//! The relay: every event reaches the topic, in order per record; a relay
//! killed mid-stream loses nothing; bad settings stop it at start-up; a
//! broker that goes away and comes back is survived.

use crate::broker::Broker;
use crate::support::{eventually, kafka_settings, Positions, TestDb, Workload};
use crate::topic_reader::{read_until, Read};
use deedlog_kafka::{progress, Relay, RelayOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub fn options() -> RelayOptions {
    RelayOptions {
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        lease_interval: Duration::from_millis(100),
        ..RelayOptions::default()
    }
}

async fn stored(db: &TestDb) -> u64 {
    progress::load(db.reader.pool(), "test")
        .await
        .expect("progress")
}

/// Per partition, without repeats (a position at or below one already
/// read), positions rise; every record stays on one partition in order.
fn assert_ordered(read: &[Read], repeats_above: u64) {
    let mut by_partition: BTreeMap<i32, Vec<&Read>> = BTreeMap::new();
    for r in read {
        by_partition.entry(r.partition).or_default().push(r);
    }
    let mut record_partition: BTreeMap<&str, i32> = BTreeMap::new();
    let mut record_last: BTreeMap<&str, u64> = BTreeMap::new();
    for (partition, mut messages) in by_partition {
        messages.sort_by_key(|r| r.offset);
        let mut high = 0;
        for r in messages {
            if r.position <= high {
                assert!(
                    r.position > repeats_above,
                    "position {} repeated, but it was acknowledged (stored progress {repeats_above})",
                    r.position
                );
                continue;
            }
            high = r.position;
            assert_eq!(
                *record_partition.entry(&r.key).or_insert(partition),
                partition
            );
            let last = record_last.entry(&r.key).or_insert(0);
            assert!(*last < r.position, "record {} out of order", r.key);
            *last = r.position;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_topic_in_record_order_and_a_killed_relay_loses_nothing() {
    let db = TestDb::new().await;
    let broker = Broker::start().await;
    let settings = kafka_settings(&broker.brokers(), 4);
    let mut workload = Workload::new(&db, 6, 11).await;
    workload.append(&db, 150).await;

    let relay = Relay::start(db.reader.clone(), settings.clone(), options())
        .await
        .expect("relay starts");
    let stats = relay.stats();
    let first = tokio::spawn(relay.run_until_stopped(CancellationToken::new()));
    workload.append(&db, 150).await;
    eventually(30, "the relay publishes", || async {
        stats.acknowledged.load(Ordering::Relaxed) > 200
    })
    .await;
    // Killed: no drain, no final progress.
    first.abort();
    let _ = first.await;
    let at_kill = stored(&db).await;
    workload.append(&db, 100).await;

    let relay = Relay::start(db.reader.clone(), settings.clone(), options())
        .await
        .expect("relay restarts");
    let shutdown = CancellationToken::new();
    let second = tokio::spawn(relay.run_until_stopped(shutdown.clone()));
    let positions: BTreeSet<u64> = db.positions().await.into_iter().collect();
    let head = *positions.last().expect("events");
    eventually(60, "the restarted relay reaches the head", || async {
        stored(&db).await == head
    })
    .await;
    let read = read_until(&settings, &positions).await;
    let seen: BTreeSet<u64> = read.iter().map(|r| r.position).collect();
    assert_eq!(
        seen, positions,
        "every event, and only the log's, reached the topic"
    );
    assert_ordered(&read, at_kill);
    shutdown.cancel();
    second.await.expect("relay stops");
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_goes_away_and_comes_back_loses_nothing() {
    let db = TestDb::new().await;
    let broker = Broker::start().await;
    let settings = kafka_settings(&broker.brokers(), 3);
    let mut workload = Workload::new(&db, 4, 23).await;
    workload.append(&db, 50).await;
    let relay = Relay::start(db.reader.clone(), settings.clone(), options())
        .await
        .expect("relay starts");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay.run_until_stopped(shutdown.clone()));
    let head = *db.positions().await.last().expect("events");
    eventually(30, "published before the outage", || async {
        stored(&db).await == head
    })
    .await;

    broker.go_away();
    workload.append(&db, 80).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = stored(&db).await;
    broker.come_back();

    let positions: BTreeSet<u64> = db.positions().await.into_iter().collect();
    let head = *positions.last().expect("events");
    assert!(
        during < head,
        "nothing could be acknowledged while the broker was away"
    );
    eventually(90, "published after the outage", || async {
        stored(&db).await == head
    })
    .await;
    let read = read_until(&settings, &positions).await;
    assert_eq!(
        read.iter().map(|r| r.position).collect::<BTreeSet<_>>(),
        positions
    );
    assert_ordered(&read, during);
    shutdown.cancel();
    task.await.expect("relay stops");
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_stop_the_relay_at_start_up_with_a_clear_error() {
    let db = TestDb::new().await;
    let broker = Broker::start().await;

    // Nothing listens on this port.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let closed_addr = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let mut unreachable = kafka_settings(&closed_addr, 2);
    unreachable.startup_timeout_ms = 1_000;
    let error = Relay::start(db.reader.clone(), unreachable, options())
        .await
        .expect_err("no broker there")
        .to_string();
    assert!(error.contains("cannot reach the Kafka brokers"), "{error}");
    assert!(error.contains(&closed_addr), "{error}");

    let mut missing = kafka_settings(&broker.brokers(), 2);
    missing.create_topic = false;
    let error = Relay::start(db.reader.clone(), missing.clone(), options())
        .await
        .expect_err("no topic")
        .to_string();
    assert!(error.contains("does not exist"), "{error}");
    assert!(error.contains(&missing.topic), "{error}");
    assert!(error.contains("kafka.create_topic"), "{error}");

    let mut invalid = kafka_settings(&broker.brokers(), 2);
    invalid.producer.insert("linger.msx".into(), "5".into());
    let error = Relay::start(db.reader.clone(), invalid, options())
        .await
        .expect_err("unknown property")
        .to_string();
    assert!(error.contains("invalid Kafka producer setting"), "{error}");
    assert!(error.contains("linger.msx"), "{error}");

    let mut consumer = kafka_settings(&broker.brokers(), 2);
    consumer
        .consumer
        .insert("session.timeout.ms".into(), "soon".into());
    let error = deedlog_kafka::KafkaProjector::start(
        deedlog_projector::projections::all(),
        db.pool.clone(),
        consumer,
        Default::default(),
    )
    .await
    .expect_err("bad value")
    .to_string();
    assert!(error.contains("invalid Kafka consumer setting"), "{error}");
    assert!(error.contains("session.timeout.ms"), "{error}");

    // Nothing was stored by any of them.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM relay_progress")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    drop(db);
}

#[test]
fn relay_metrics_render_as_prometheus_text_with_the_lag() {
    let stats = deedlog_kafka::RelayStats::default();
    stats.log_head.store(120, Ordering::Relaxed);
    stats.acknowledged.store(100, Ordering::Relaxed);
    stats.published.store(100, Ordering::Relaxed);
    let text = stats.render();
    for line in [
        "# TYPE deedlog_relay_lag_positions gauge",
        "deedlog_relay_lag_positions 20",
        "deedlog_relay_acknowledged_position 100",
        "deedlog_relay_log_head_position 120",
        "# TYPE deedlog_relay_published_events_total counter",
        "deedlog_relay_published_events_total 100",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once(' ').expect("name value");
        assert!(name.starts_with("deedlog_relay_"), "{line}");
        value.parse::<f64>().expect("a number");
    }
}
