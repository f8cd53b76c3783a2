//! `deedlog up --data-dir`: a private PostgreSQL made, served and stopped
//! by `up`, kept between runs and taken over after a crash; and the advice
//! `up` gives when the configured database does not answer. The server
//! programs are found as `deedlog` finds them (set DEEDLOG_PG_BINDIR where
//! they are elsewhere).

use crate::shutdown::{deedlog, terminate};
use deedlog_cluster::Component;
use deedlog_tests::clients::PASSWORD;
use deedlog_tests::Clients;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use uuid::Uuid;

/// A directory of the test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("deedlog-{tag}-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // Reachable by the postgres user when the tests run as root.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh file name in the system's temporary folder.
fn tempfile_path(prefix: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{prefix}-{}.log", uuid::Uuid::now_v7()))
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `deedlog up <args>` with every listener on port 0 and a database URL
/// where nothing answers.
fn up(args: &[&str]) -> Command {
    let mut command = deedlog("unused", &[]);
    command.arg("up").args(args).env(
        "DEEDLOG__DATABASE__URL",
        format!("postgres://postgres@127.0.0.1:{}/deedlog", closed_port()),
    );
    command
}

/// Starts `up` and reads its lines up to the database's: each line by its
/// first word (`postgres`, `tenancy`, …, `database`).
fn start(mut command: Command) -> (Child, BTreeMap<String, String>) {
    // Its log goes to a file, shown if it stops before it says where it runs.
    let log = tempfile_path("deedlog-up");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("create the log"))
        .spawn()
        .expect("start deedlog");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = BTreeMap::new();
    loop {
        let Some(line) = lines.next() else {
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
            panic!(
                "deedlog stopped before it said where it runs; its log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        };
        let line = line.expect("utf-8");
        let (first, rest) = line.split_once(' ').unwrap_or((&line, ""));
        printed
            .entry(first.to_owned())
            .or_insert_with(|| rest.trim().to_owned());
        if first == "database" {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (child, printed)
}

/// The private server's port, from the database line.
fn port(printed: &BTreeMap<String, String>) -> u16 {
    let url = &printed["database"];
    let (_, rest) = url.rsplit_once(':').expect("a port");
    rest.split('/')
        .next()
        .expect("port")
        .parse()
        .expect("number")
}

fn clients(printed: &BTreeMap<String, String>) -> Clients {
    let printed = printed.clone();
    Clients::at(move |c: Component| {
        let line = &printed[&c.to_string()];
        line.replace("grpc://", "http://")
    })
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_secs(1),
    )
    .is_ok()
}

async fn private_database(port: u16) -> sqlx::PgConnection {
    format!("postgres://postgres@127.0.0.1:{port}/deedlog")
        .parse::<sqlx::postgres::PgConnectOptions>()
        .expect("url")
        .connect()
        .await
        .expect("connect to the private server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_on_a_data_dir_serves_keeps_its_data_and_stops_its_server() {
    let temp = TempDir::new("private-pg");
    let data = temp.0.join("data");
    let data_arg = data.display().to_string();

    // First run: the cluster is made, migrated and served.
    let (first, printed) = start(up(&["--data-dir", &data_arg, "--seed", "none"]));
    assert!(printed["postgres"].contains("created now"), "{printed:?}");
    let port = port(&printed);
    let admin = clients(&printed).register("berg").await;
    let mut db = private_database(port).await;
    let (events, migrations): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM _sqlx_migrations)",
    )
    .fetch_one(&mut db)
    .await
    .expect("the log is there");
    assert!(events > 0, "registering wrote to the private server");
    assert_eq!(
        migrations as usize,
        deedlog_eventstore::MIGRATOR.iter().count()
    );
    db.close().await.expect("close");
    let exit = terminate(first).await;
    assert!(exit.success(), "{exit}");
    assert!(!data.join("postmaster.pid").exists(), "PostgreSQL stopped");
    assert!(!answers(port), "its port is closed");

    // Second run: the same data, on a port of its own.
    let (second, printed) = start(up(&["--data-dir", &data_arg, "--seed", "none"]));
    assert!(
        printed["postgres"].contains("kept from an earlier run"),
        "{printed:?}"
    );
    let mut clients2 = clients(&printed);
    clients2
        .login("berg", &admin.email, PASSWORD)
        .await
        .expect("the admin registered in the first run signs in");
    let port = self::port(&printed);

    // A crash of deedlog leaves its server running; the next run takes it over.
    let mut second = second;
    second.kill().expect("kill -9");
    second.wait().expect("reap");
    assert!(answers(port), "the server outlived deedlog");
    let (third, printed) = start(up(&["--data-dir", &data_arg, "--seed", "none"]));
    assert!(printed["postgres"].contains("taken over"), "{printed:?}");
    assert_eq!(self::port(&printed), port);
    clients(&printed)
        .login("berg", &admin.email, PASSWORD)
        .await
        .expect("signs in on the server taken over");
    let exit = terminate(third).await;
    assert!(exit.success(), "{exit}");
    assert!(!data.join("postmaster.pid").exists(), "PostgreSQL stopped");
    assert!(!answers(port), "its port is closed");
}

#[test]
fn up_that_fails_after_starting_its_server_stops_it() {
    let temp = TempDir::new("private-pg-fail");
    let data = temp.0.join("data");
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let output = up(&["--data-dir", &data.display().to_string(), "--seed", "none"])
        .env(
            "DEEDLOG__GATEWAY__LISTEN",
            taken.local_addr().expect("addr").to_string(),
        )
        .output()
        .expect("run deedlog");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("bind the gateway"), "{stderr}");
    assert!(data.join("PG_VERSION").exists(), "the cluster was made");
    assert!(
        !data.join("postmaster.pid").exists(),
        "and its server stopped: {stderr}"
    );
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command.output().expect("run deedlog");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "refused: {stderr}");
    (output, stderr)
}

#[test]
fn without_a_server_up_says_what_to_install_or_offers_a_data_dir() {
    let temp = TempDir::new("private-pg-advice");
    let empty = temp.0.join("empty-bin");
    std::fs::create_dir(&empty).expect("dir");

    // No server programs: what to install, and which setting to give.
    let (_, stderr) = run(up(&["--seed", "none"]).env("DEEDLOG_PG_BINDIR", &empty));
    assert!(
        stderr.contains("Nothing answers at postgres://"),
        "{stderr}"
    );
    assert!(stderr.contains("install PostgreSQL ("), "{stderr}");
    if Path::new("/etc/debian_version").exists() {
        assert!(stderr.contains("apt install postgresql"), "{stderr}");
    }
    assert!(stderr.contains("database.url"), "{stderr}");
    assert!(stderr.contains("DEEDLOG__DATABASE__URL"), "{stderr}");
    let (_, stderr) =
        run(up(&["--data-dir", &temp.0.join("d").display().to_string()])
            .env("DEEDLOG_PG_BINDIR", ""));
    assert!(stderr.contains("Install them ("), "{stderr}");
    assert!(stderr.contains("DEEDLOG__DATABASE__URL"), "{stderr}");
    assert!(!temp.0.join("d").exists(), "nothing made");

    // Server programs present: `--data-dir` is offered.
    let bin = temp.0.join("bin");
    std::fs::create_dir(&bin).expect("dir");
    for program in ["initdb", "pg_ctl", "postgres"] {
        let file = bin.join(program);
        std::fs::write(&file, "#!/bin/sh\nexit 1\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let (_, stderr) = run(up(&["--seed", "none"]).env("DEEDLOG_PG_BINDIR", &bin));
    assert!(stderr.contains("deedlog up --data-dir DIR"), "{stderr}");
    assert!(stderr.contains(&bin.display().to_string()), "{stderr}");
}

#[test]
fn a_data_dir_that_cannot_hold_a_cluster_is_refused_with_the_reason() {
    let temp = TempDir::new("private-pg-refused");
    let file = temp.0.join("file");
    std::fs::write(&file, "not a directory").expect("write");
    let full = temp.0.join("full");
    std::fs::create_dir(&full).expect("dir");
    std::fs::write(full.join("notes.txt"), "mine").expect("write");
    // A parent closed to everyone but its owner: root can write there but
    // the postgres user cannot reach it; anyone else cannot write there.
    let closed = temp.0.join("closed");
    std::fs::create_dir(&closed).expect("dir");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mode = if root { 0o700 } else { 0o500 };
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(mode)).expect("chmod");
    let unwritable = closed.join("data");
    for (dir, reason) in [
        (&file, "is a file, not a directory"),
        (&full, "is not empty and holds no PostgreSQL cluster"),
        (
            &unwritable,
            if root {
                "who cannot write to --data-dir"
            } else {
                "create --data-dir"
            },
        ),
    ] {
        let (_, stderr) = run(&mut up(&["--data-dir", &dir.display().to_string()]));
        assert!(stderr.contains(reason), "{dir:?}: {stderr}");
        assert!(stderr.contains(&dir.display().to_string()), "{stderr}");
    }
    assert!(!unwritable.exists(), "nothing left behind");
    let fresh = temp.0.join("fresh");
    let (_, stderr) =
        run(up(&["--data-dir", &fresh.display().to_string()])
            .env("DEEDLOG__ENVIRONMENT", "production"));
    assert!(
        stderr.contains("refuses environment = \"production\""),
        "{stderr}"
    );
    assert!(!fresh.exists(), "nothing made");
    assert_eq!(
        std::fs::read_dir(&full).expect("list").count(),
        1,
        "untouched"
    );
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
