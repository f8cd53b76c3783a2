//! SIGTERM to `deedlog up` under load: it stops taking requests, drains and
//! exits within 10 seconds; every command it acknowledged is in the log, and
//! every projection's checkpoint agrees with its rows (reconciliation is
//! clean afterwards).

use deedlog_cluster::Component;
use deedlog_tests::fixtures::apartment;
use deedlog_tests::Clients;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use deedlog_tests::cluster::admin_url;
pub use deedlog_tests::cluster::database_url;

/// `deedlog <args>` against database `name`, every listener on port 0.
pub fn deedlog(name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deedlog"));
    command
        .args(args)
        .env("DEEDLOG__DATABASE__URL", database_url(name))
        .env("DEEDLOG__LOG__FILTER", "warn")
        .env("DEEDLOG__SERVICES__TENANCY_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__SERVICES__PROPERTIES_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__SERVICES__DEALS_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__SERVICES__COMMUNICATIONS_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__GATEWAY__LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__PROJECTOR__METRICS_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__SERVICES__METRICS_LISTEN", "127.0.0.1:0")
        .env("DEEDLOG__SEALING__METRICS_LISTEN", "127.0.0.1:0");
    command
}

/// Starts `command` with its stdout piped to the caller and stderr dropped.
pub fn spawn_reading(mut command: Command) -> (Child, ChildStdout) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start deedlog");
    let stdout = child.stdout.take().expect("stdout");
    (child, stdout)
}

/// Starts `command` (a `deedlog up` or `serve`) and reads what it prints
/// until a line starting with `until`: each component's URL by name
/// (`properties`, `gateway`, `services metrics`, `projector metrics`…).
pub fn start(command: Command, until: &str) -> (Child, BTreeMap<String, String>) {
    let (child, stdout) = spawn_reading(command);
    let mut lines = BufReader::new(stdout).lines();
    let mut urls = BTreeMap::new();
    loop {
        let line = lines
            .next()
            .expect("deedlog prints where it listens")
            .expect("utf-8");
        let words: Vec<&str> = line.split_whitespace().collect();
        if let (Some(component), Some(url)) =
            (words.first(), words.iter().find(|w| w.contains("://")))
        {
            let key = match words.get(1) {
                Some(&"metrics") => format!("{component} metrics"),
                _ => (*component).to_owned(),
            };
            urls.insert(key, url.replace("grpc://", "http://"));
        }
        if line.starts_with(until) {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (child, urls)
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

/// Drops a test's database.
pub async fn drop_database(name: &str) {
    let mut admin_db = admin_options().connect().await.expect("admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_db)
        .await
        .expect("drop");
}
