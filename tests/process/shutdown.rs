//! SIGTERM to `deedlog up` under load: it stops taking requests, drains and
//! exits within 10 seconds; every command it acknowledged is in the log, and
//! every projection's checkpoint agrees with its rows (reconciliation is
//! clean afterwards).

use deedlog_cluster::Component;
use deedlog_tests::fixtures::apartment;
use deedlog_tests::Clients;
use sqlx::{ConnectOptions, Connection};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use deedlog_tests::cluster::admin_url;
pub use deedlog_tests::cluster::database_url;

pub use deedlog_tests::process::{drop_database, spawn_reading, start};

/// `deedlog <args>` against database `name`, every listener on port 0.
pub fn deedlog(name: &str, args: &[&str]) -> Command {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_deedlog"));
    deedlog_tests::process::deedlog(binary, name, args)
}

/// SIGTERM to `child`, then its exit status.
pub async fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("wait")
        .expect("exit status")
}

/// Runs `deedlog <args>` against database `name`: success, stdout, stderr.
pub fn run_deedlog(name: &str, args: &[&str]) -> (bool, String, String) {
    let output = deedlog(name, args).output().expect("run deedlog");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_and_loses_no_acknowledged_command() {
    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let (up, urls) = start(deedlog(&name, &["up", "--no-demo"]), "database");
    let url = move |c: Component| urls[&c.to_string()].clone();
    let mut clients = Clients::at(url);
    let admin = clients.register("berg").await;

    // Load: four clients creating properties as fast as they are answered.
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (mut properties, token, acknowledged) = (
            clients.properties.clone(),
            admin.access.clone(),
            acknowledged.clone(),
        );
        load.spawn(async move {
            loop {
                let mut request = tonic::Request::new(apartment());
                request.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("header"),
                );
                match properties.create_property(request).await {
                    Ok(reply) => {
                        let reply = reply.into_inner();
                        acknowledged
                            .lock()
                            .expect("list")
                            .push((reply.record_id, reply.position));
                    }
                    // Refused or cut off once shutdown began: not acknowledged.
                    Err(_) => break,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = acknowledged.lock().expect("list").len();
    assert!(before > 10, "the load is running ({before} commands)");

    let stopping = Instant::now();
    let exit = terminate(up).await;
    let took = stopping.elapsed();
    assert!(exit.success(), "deedlog up exited with {exit}");
    assert!(took < Duration::from_secs(10), "took {took:?} to stop");
    while load.join_next().await.is_some() {}

    // Every acknowledged command is in the log.
    let acknowledged = acknowledged.lock().expect("list").clone();
    let mut db = connect(&name).await;
    let ids: Vec<Uuid> = acknowledged
        .iter()
        .map(|(id, _)| id.parse().expect("uuid"))
        .collect();
    let found: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_one(&mut db)
    .await
    .expect("count");
    assert_eq!(
        found as usize,
        ids.len(),
        "every acknowledged command is in the log"
    );
    db.close().await.expect("close");

    // Checkpoints agree with rows: a reconciliation of the properties list
    // (which every command above changed) finds no drift.
    let reconcile = deedlog(&name, &["reconcile", "properties"])
        .output()
        .expect("reconcile");
    assert!(
        reconcile.status.success(),
        "{}",
        String::from_utf8_lossy(&reconcile.stdout)
    );

    drop_database(&name).await;
}

/// The administrative connection the tests start from.
pub fn admin_options() -> sqlx::postgres::PgConnectOptions {
    admin_url().parse().expect("admin URL")
}

/// A connection to test database `name`, as its owner.
pub async fn connect(name: &str) -> sqlx::PgConnection {
    database_url(name)
        .parse::<sqlx::postgres::PgConnectOptions>()
        .expect("url")
        .connect()
        .await
        .expect("connect")
}
