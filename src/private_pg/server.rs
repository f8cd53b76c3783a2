//! A PostgreSQL server on a private data directory: started as a child of
//! deedlog on a free loopback port, or taken over from an earlier run that
//! did not stop it, and stopped with `pg_ctl stop -m fast`.

use super::binaries::Binaries;
use super::postmaster::{process, Postmaster, Process};
use super::user::RunAs;
use anyhow::Context;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Where the server writes its log, inside the data directory.
pub const LOG_FILE: &str = "postgres.log";
/// The id of the `deedlog up` that runs the server, inside the data directory.
pub const OWNER_FILE: &str = "deedlog-up.pid";
/// The longest wait for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at a free port (another process may take one between the
/// probe and the server's bind).
const PORT_ATTEMPTS: usize = 3;

/// A running server on a private data directory.
#[derive(Debug)]
pub struct Server {
    dir: PathBuf,
    port: u16,
    binaries: Binaries,
    run_as: RunAs,
    /// The server (or `runuser` above it) when this process started it;
    /// waited for after the stop so that it leaves no zombie.
    child: Option<Child>,
    /// The pid of a server taken over from an earlier run.
    adopted: Option<u32>,
    stopped: bool,
}

impl Server {
    /// Starts the server of the cluster in `dir` on a free port of
    /// 127.0.0.1 (its socket in `dir`), or takes over the one an earlier
    /// `deedlog up` left running there, and waits until it answers.
    /// Returns the server and whether it was taken over.
    pub fn start(dir: &Path, binaries: &Binaries, run_as: &RunAs) -> anyhow::Result<(Self, bool)> {
        let mut server = Server {
            dir: dir.to_owned(),
            port: 0,
            binaries: binaries.clone(),
            run_as: run_as.clone(),
            child: None,
            adopted: None,
            stopped: false,
        };
        if let Some(running) = Postmaster::read(dir) {
            match process(running.pid) {
                Process::Running { .. } => {
                    server.adopt(running)?;
                    return Ok((server, true));
                }
                Process::Zombie => {
                    // A server killed under a parent that never reaps it:
                    // PostgreSQL would take its lock file for a live one.
                    tracing::warn!(pid = running.pid, "removing the lock file of a dead server");
                    std::fs::remove_file(dir.join("postmaster.pid"))
                        .context("remove the stale postmaster.pid of a dead server")?;
                }
                // PostgreSQL sees through a lock file of a gone process itself.
                Process::Gone => {}
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match server.spawn() {
                Ok(()) => break,
                Err(Spawn::PortTaken) if attempt < PORT_ATTEMPTS => continue,
                Err(Spawn::PortTaken) => anyhow::bail!(
                    "PostgreSQL found no free port in {PORT_ATTEMPTS} attempts (see {})",
                    dir.join(LOG_FILE).display()
                ),
                Err(Spawn::Failed(error)) => return Err(error),
            }
        }
        server.claim()?;
        Ok((server, false))
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Takes over a server an earlier `deedlog up` left running in the
    /// directory; refuses one that another live `deedlog up` runs, or that
    /// deedlog did not start.
    fn adopt(&mut self, running: Postmaster) -> anyhow::Result<()> {
        let dir = self.dir.display().to_string();
        let owner: Option<u32> = std::fs::read_to_string(self.dir.join(OWNER_FILE))
            .ok()
            .and_then(|text| text.trim().parse().ok());
        let Some(owner) = owner else {
            anyhow::bail!(
                "a PostgreSQL server that deedlog did not start runs on --data-dir {dir} (pid {}, \
                 port {}): connect to it with database.url \
                 (DEEDLOG__DATABASE__URL=postgres://postgres@127.0.0.1:{}/deedlog) instead of \
                 --data-dir, or stop it (pg_ctl stop -D {dir})",
                running.pid,
                running.port,
                running.port
            );
        };
        if let Process::Running { name } = process(owner) {
            anyhow::ensure!(
                owner == std::process::id() || !name.starts_with("deedlog"),
                "another `deedlog up` (pid {owner}) runs on --data-dir {dir}, with PostgreSQL on \
                 port {}: stop it first, or give another directory",
                running.port
            );
        }
        tracing::warn!(
            pid = running.pid,
            port = running.port,
            "taking over the postgresql server an earlier `deedlog up` left running"
        );
        self.port = running.port;
        self.adopted = Some(running.pid);
        self.wait_until_ready().with_context(|| {
            format!(
                "the PostgreSQL server an earlier run left on --data-dir {dir} (pid {}) does not \
                 answer: stop it (pg_ctl stop -D {dir} -m fast) and start again",
                running.pid
            )
        })?;
        self.claim()
    }

    /// Starts the server as a child on a port free a moment ago.
    fn spawn(&mut self) -> Result<(), Spawn> {
        self.port = free_port().map_err(Spawn::Failed)?;
        let log_path = self.dir.join(LOG_FILE);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("open {}", log_path.display()))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let stderr = log.try_clone().context("share the log file")?;
        let child = self
            .run_as
            .command(&self.binaries.program("postgres"))
            .arg("-D")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string()])
            // Loopback only, and the socket in the data directory ("." is
            // relative to it, which also keeps clear of the socket path's
            // length limit); never the system's /var/run/postgresql.
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories=."])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            // Out of deedlog's process group: Ctrl-C in a terminal reaches
            // deedlog, which drains first and then stops the server.
            .process_group(0)
            .spawn()
            .with_context(|| format!("start {}", self.binaries.program("postgres").display()))?;
        self.child = Some(child);
        if let Err(error) = self.wait_until_ready() {
            self.abandon();
            let tail = log_tail(&log_path, log_start);
            if tail.contains("could not bind") || tail.contains("already in use") {
                return Err(Spawn::PortTaken);
            }
            return Err(Spawn::Failed(anyhow::anyhow!(
                "{error:#}; PostgreSQL's log {} ends:\n{tail}",
                log_path.display()
            )));
        }
        Ok(())
    }

    /// Ends a child that failed to start, without pg_ctl (it may not have
    /// written its lock file).
    fn abandon(&mut self) {
        if let Some(mut child) = self.child.take() {
            if child.try_wait().ok().flatten().is_none() {
                let _ = std::process::Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status();
            }
            reap(&mut child);
        }
    }

    /// Waits until `postmaster.pid` says "ready" for this port and the
    /// port accepts a connection.
    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Some(child) = &mut self.child {
                if let Some(status) = child.try_wait().context("look at the server")? {
                    anyhow::bail!("PostgreSQL exited at start ({status})");
                }
            }
            if let Some(pid) = self.adopted {
                if !matches!(process(pid), Process::Running { .. }) {
                    anyhow::bail!("the server (pid {pid}) ended");
                }
            }
            let ready = Postmaster::read(&self.dir).is_some_and(|pm| {
                pm.port == self.port && (pm.status == "ready" || pm.status.is_empty())
            });
            if ready && TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!("PostgreSQL did not answer on {address} within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Records this process as the one running the server.
    fn claim(&self) -> anyhow::Result<()> {
        let path = self.dir.join(OWNER_FILE);
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("write {}", path.display()))
    }

    /// Stops the server (fast: open sessions are cut, what is committed is
    /// kept) and waits until it has ended.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.stop_now()
    }

    fn stop_now(&mut self) -> anyhow::Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        // pg_ctl waits until the server has removed postmaster.pid.
        let stopped = self
            .run_as
            .command(&self.binaries.program("pg_ctl"))
            .arg("stop")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "-t", "60"])
            .stdout(Stdio::null())
            .output()
            .with_context(|| format!("run {}", self.binaries.program("pg_ctl").display()));
        let result = match stopped {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(anyhow::anyhow!(
                "pg_ctl stop -D {} failed ({}): {}",
                self.dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(error) => Err(error),
        };
        if let Some(mut child) = self.child.take() {
            if result.is_err() {
                // Fast shutdown by signal, as pg_ctl would have sent it.
                let _ = std::process::Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status();
            }
            reap(&mut child);
        }
        let _ = std::fs::remove_file(self.dir.join(OWNER_FILE));
        result
    }
}

impl Drop for Server {
    /// Stops a server still running when `up` ends early (an error or a panic).
    fn drop(&mut self) {
        if let Err(error) = self.stop_now() {
            eprintln!("error: stop the private PostgreSQL: {error:#}");
        }
    }
}

/// Waits for a child that was asked to stop; kills it after 30 s.
fn reap(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Why a start failed.
#[derive(Debug)]
enum Spawn {
    /// Another process took the port first: try another.
    PortTaken,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Spawn {
    fn from(error: anyhow::Error) -> Self {
        Spawn::Failed(error)
    }
}

/// A loopback port nothing listens on at this moment.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("find a free port")?;
    Ok(listener.local_addr().context("read the free port")?.port())
}

/// What the log holds from byte `start` on (its last 2 kB).
fn log_tail(path: &Path, start: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        let from = start.max(length.saturating_sub(2048));
        if file.seek(SeekFrom::Start(from)).is_ok() {
            let _ = file.read_to_string(&mut text);
        }
    }
    text
}
