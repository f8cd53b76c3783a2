//! A real Kafka-protocol broker for the tests (shared with deedlog-kafka's
//! own tests and benchmark): tansu 0.6.0 on 127.0.0.1, in
//! memory, one per test; and a TCP proxy in front of it that can cut every
//! connection and refuse new ones, so a test can make the broker go away and
//! come back without losing what it stored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The broker the tests run: this version, built with the features that
/// carry its memory engine.
const TANSU_VERSION: &str = "0.6.0";
const TANSU_FEATURES: &str = "dynostore";

/// The tansu binary: `DEEDLOG_TANSU`, then `PATH`, then cargo's bin folder,
/// then `target/tansu/`, where the first test that needs it builds it.
fn tansu() -> PathBuf {
    if let Ok(path) = std::env::var("DEEDLOG_TANSU") {
        return path.into();
    }
    let installed = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tansu"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu")))
        .find(|candidate| candidate.is_file());
    installed.unwrap_or_else(build_tansu)
}

/// Where the tests keep their own tansu: beside the workspace's builds.
/// (This file is compiled into more than one crate: the workspace root is
/// the nearest folder up with `Cargo.lock`.)
fn tansu_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .find(|dir| dir.join("Cargo.lock").is_file())
                .expect("the workspace root holds Cargo.lock")
                .join("target")
        });
    target.join("tansu")
}

/// Builds tansu into `target/tansu/` once (about 10 minutes on 2 cores),
/// with `cargo install` from crates.io. Test processes that need it at the
/// same time wait on a file lock; later runs find it built.
fn build_tansu() -> PathBuf {
    let root = tansu_root();
    let binary = root.join("bin/tansu");
    if binary.is_file() {
        return binary;
    }
    std::fs::create_dir_all(&root).expect("create target/tansu");
    let lock = std::fs::File::create(root.join(".lock")).expect("create target/tansu/.lock");
    lock.lock().expect("lock target/tansu/.lock");
    if binary.is_file() {
        return binary;
    }
    let log_path = root.join("build.log");
    eprintln!(
        "deedlog tests: building the tansu {TANSU_VERSION} Kafka broker into {} \
         (first run only, about 10 minutes on 2 cores; log: {})",
        root.display(),
        log_path.display()
    );
    let log = std::fs::File::create(&log_path).expect("create target/tansu/build.log");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "tansu", "--locked", "--version", TANSU_VERSION])
        .args(["--features", TANSU_FEATURES])
        .arg("--root")
        .arg(&root)
        .arg("--target-dir")
        .arg(root.join("build"))
        // Whatever the outer build set must not redirect or reconfigure this one.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .status()
        .expect("run cargo install tansu");
    if !status.success() || !binary.is_file() {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        panic!(
            "the Kafka tests need the tansu broker and could not build it ({status}); \
             it needs crates.io. Install it yourself with `cargo install tansu --version \
             {TANSU_VERSION} --locked --features {TANSU_FEATURES}` or set DEEDLOG_TANSU to its \
             path. Last lines of {}:\n{}",
            log_path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    // Only the binary is needed; the build tree is gigabytes.
    let _ = std::fs::remove_dir_all(root.join("build"));
    binary
}

/// A running broker, reached through its proxy.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    proxy: Proxy,
}

impl Broker {
    pub async fn start() -> Self {
        let proxy_listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let proxy_addr = proxy_listener.local_addr().expect("proxy addr");
        let port = free_port().await;
        let broker_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        // Clients are told to come back through the proxy.
        let child = Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://{broker_addr}"),
                "--advertised-listener-url",
                &format!("tcp://{proxy_addr}"),
                "--storage-engine",
                "memory://tansu/",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        for _ in 0..200 {
            if TcpStream::connect(broker_addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        TcpStream::connect(broker_addr)
            .await
            .expect("tansu listens");
        let proxy = Proxy::start(proxy_listener, broker_addr);
        Self { child, proxy }
    }

    /// `host:port` for `kafka.brokers`.
    pub fn brokers(&self) -> String {
        self.proxy.addr.to_string()
    }

    /// Cuts every client connection and refuses new ones.
    pub fn go_away(&self) {
        self.proxy.set_open(false);
    }

    /// Accepts clients again.
    pub fn come_back(&self) {
        self.proxy.set_open(true);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("free port");
    listener.local_addr().expect("addr").port()
}

#[derive(Debug)]
struct Proxy {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    fn start(listener: TcpListener, target: SocketAddr) -> Self {
        let addr = listener.local_addr().expect("addr");
        let open = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (accepting, cuts) = (open.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, open, cut }
    }

    fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
        if !open {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}
