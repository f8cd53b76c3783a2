//! The connection budget, counted where PostgreSQL counts it
//! (`pg_stat_activity`): an idle `deedlog up` on the default settings holds
//! at most 10 connections, and under the commands benchmark's load (32
//! callers) plus GraphQL reads it never holds more than
//! `database.max_connections`.

use crate::shutdown::{admin_options, deedlog, drop_database, start, terminate};
use deedlog_cluster::Component;
use deedlog_tests::fixtures::{apartment, eur, reprice};
use deedlog_tests::{Clients, Gql};
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// `database.max_connections` by default.
const DEFAULT_TOTAL: i64 = 20;
/// What an idle `deedlog up` may hold.
const IDLE_BOUND: i64 = 10;

async fn held(admin: &mut PgConnection, name: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .fetch_one(admin)
        .await
        .expect("count connections")
}

/// Waits until the process holds at most `bound`, up to `within`; the last count.
async fn settles(admin: &mut PgConnection, name: &str, bound: i64, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        let now = held(admin, name).await;
        if now <= bound || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn authorized<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deedlog_up_stays_within_its_connection_budget_idle_and_under_load() {
    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let (up, urls) = start(deedlog(&name, &["up", "--no-demo"]), "database");
    let graphql = urls["gateway"].clone();
    let url = move |c: Component| urls[&c.to_string()].clone();
    let mut clients = Clients::at(url);
    let admin = clients.register("budget").await;
    let mut pg = admin_options().connect().await.expect("admin connection");

    // Idle: the lease session, the LISTEN sessions and whatever the pools
    // still hold from start-up, which they close after 10 s.
    let idle = settles(&mut pg, &name, IDLE_BOUND, Duration::from_secs(30)).await;
    assert!(
        idle <= IDLE_BOUND,
        "an idle deedlog up holds {idle} connections"
    );

    // Load: 32 callers sending commands, 4 reading through the gateway; a
    // sampler counts the connections every 20 ms.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut load = tokio::task::JoinSet::new();
    for caller in 0..32 {
        let (mut properties, token) = (clients.properties.clone(), admin.access.clone());
        let (stop, done) = (stop.clone(), done.clone());
        load.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let created = properties
                    .create_property(authorized(&token, apartment()))
                    .await
                    .expect("create a property")
                    .into_inner();
                let change = reprice(&created.record_id, eur(40_000_000 + caller));
                properties
                    .change_asking_price(authorized(&token, change))
                    .await
                    .expect("change the price");
                done.fetch_add(2, Ordering::Relaxed);
            }
        });
    }
    for _ in 0..4 {
        let (gateway, token, stop) = (Gql::at(&graphql), admin.access.clone(), stop.clone());
        load.spawn(async move {
            let query = r#"{"query":"{ properties(first: 20) { edges { node { street askingPriceMinor } } } pipeline { stage count } }"}"#;
            while !stop.load(Ordering::Relaxed) {
                let reply = gateway.post_raw(Some(&token), query.to_owned()).await;
                assert!(reply.get("errors").is_none(), "{reply}");
            }
        });
    }
    let started = Instant::now();
    let mut peak = 0;
    while started.elapsed() < Duration::from_secs(8) {
        peak = peak.max(held(&mut pg, &name).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(task) = load.join_next().await {
        task.expect("a load task");
    }
    let commands = done.load(Ordering::Relaxed);
    assert!(commands > 200, "the load ran ({commands} commands)");
    assert!(
        peak <= DEFAULT_TOTAL,
        "under load deedlog up held {peak} connections, more than database.max_connections = {DEFAULT_TOTAL}"
    );
    // The pools used more than the idle set: the load reached them.
    assert!(peak > idle, "peak {peak}, idle {idle}");

    // Quiet again: the pools give their connections back.
    let after = settles(&mut pg, &name, IDLE_BOUND, Duration::from_secs(40)).await;
    assert!(
        after <= IDLE_BOUND,
        "{after} connections after the load ended"
    );
    eprintln!("connections: idle {idle}, peak {peak} ({commands} commands in 8 s), after {after}");

    pg.close().await.expect("close");
    assert!(terminate(up).await.success());
    drop_database(&name).await;
}
