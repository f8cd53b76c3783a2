//! The real `deedlog` binary as a child process, as the process tests and
//! the benches that measure it whole (its allocator included) start it,
//! and what the kernel says of its memory.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::cluster::database_url;
use sqlx::{ConnectOptions, Connection};

/// `deedlog <args>` at `binary` against database `name`, every listener on
/// port 0, logging warnings only.
pub fn deedlog(binary: &Path, name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
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

/// The `deedlog` binary a bench measures: `DEEDLOG_BIN` when set, else the
/// one of the bench's own profile (`target/release/deedlog` for
/// `cargo bench`), which `cargo build --release --bin deedlog` makes.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DEEDLOG_BIN") {
        return PathBuf::from(path);
    }
    let bench = std::env::current_exe().expect("the bench's own path");
    // target/<profile>/deps/<bench>-<hash>
    let profile = bench.parent().and_then(Path::parent);
    let path = profile.expect("a target directory").join("deedlog");
    assert!(
        path.exists(),
        "no {}: build it first (cargo build --release --locked --bin deedlog) or set DEEDLOG_BIN",
        path.display()
    );
    path
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

/// Resident memory of a process, in MB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// Now (VmRSS).
    pub now: f64,
    /// The most it has had (VmHWM).
    pub peak: f64,
}

/// What `/proc/<pid>/status` says of the memory of process `pid` (`self`
/// for this one); `None` once it has exited.
pub fn memory(pid: &str) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mb = |key: &str| -> Option<f64> {
        let kb = status.lines().find_map(|l| l.strip_prefix(key))?;
        Some(kb.trim().strip_suffix(" kB")?.parse::<f64>().ok()? / 1024.0)
    };
    Some(Memory {
        now: mb("VmRSS:")?,
        peak: mb("VmHWM:")?,
    })
}

/// Drops test database `name`, connected or not.
pub async fn drop_database(name: &str) {
    let admin: sqlx::postgres::PgConnectOptions =
        crate::cluster::admin_url().parse().expect("admin URL");
    let mut db = admin.connect().await.expect("connect as admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut db)
        .await
        .expect("drop");
    db.close().await.expect("close");
}
