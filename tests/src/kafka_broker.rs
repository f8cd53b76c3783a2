//! A real Kafka-protocol broker for the tests (shared with deedlog-kafka's
//! own tests and benchmark): tansu 0.6.0 on 127.0.0.1, in
//! memory, one per test; and a TCP proxy in front of it that can cut every
//! connection and refuse new ones, so a test can make the broker go away and
//! come back without losing what it stored.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const INSTALL: &str = "cargo install tansu --version 0.6.0 --locked --features postgres,dynostore";

/// The tansu binary: `DEEDLOG_TANSU`, then `PATH`, then cargo's bin folder.
fn tansu() -> PathBuf {
    if let Ok(path) = std::env::var("DEEDLOG_TANSU") {
        return path.into();
    }
    let candidates = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tansu"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu")));
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("the Kafka tests need the tansu broker: {INSTALL} (.ci/run installs it)");
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
