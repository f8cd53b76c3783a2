//! A lease on a projection: a session advisory lock, so that one process at
//! a time works a projection and another takes over when the session ends
//! (the process died or was cut off). A one-off lease ([`Lease`]) holds a
//! connection of its own. The leases a runner holds for as long as it runs
//! share one session ([`LeaseSession`]): one connection however many
//! projections it works. That session is checked by a task of its own, so
//! its loss is noticed within the interval however busy the workers are,
//! and it ends on the server when the holder stops checking (a frozen
//! process). Correctness does not rest on it: the new holder bumps the
//! checkpoint's lease epoch, and every batch compares it (see
//! `checkpoint::lock_at`), so a worker that lost its lease commits nothing.

use crate::error::Error;
use sha2::{Digest, Sha256};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// A held lease; dropping it closes the connection, which releases it.
#[derive(Debug)]
pub struct Lease {
    name: String,
    conn: PgConnection,
}

/// A session of its own, opened with the pool's settings but outside it:
/// its locks must not return to the pool, and waiting for a pooled
/// connection behind busy workers would delay a lease by the pool's
/// acquire timeout. The connection budget counts lease sessions apart.
async fn session(pool: &PgPool) -> Result<PgConnection, sqlx::Error> {
    pool.connect_options().connect().await
}

/// The advisory-lock key of `name`: stable across processes and versions,
/// so an operator can find a lease's holder in `pg_locks` (the key's high
/// half is `classid`, its low half `objid`).
pub fn key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("deedlog.lease.{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Lease {
    /// Takes the lease called `name` if no other session holds it.
    pub async fn try_acquire(pool: &PgPool, name: &str) -> Result<Option<Lease>, Error> {
        let context = "take a projection lease";
        let mut conn = session(pool).await.map_err(Error::db(context))?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key(name))
            .fetch_one(&mut conn)
            .await
            .map_err(Error::db(context))?;
        if taken {
            Ok(Some(Lease {
                name: name.to_owned(),
                conn,
            }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gives the lease up now.
    pub async fn release(self) {
        if let Err(error) = self.conn.close().await {
            tracing::debug!(%error, "close a lease connection");
        }
    }
}

/// The leases of one runner, held on one session that a task checks every
/// `interval`. The server ends the session when no check came for three
/// intervals, so a frozen holder gives its leases up by itself. The session
/// opens with the first lease and closes with the last.
#[derive(Debug, Clone)]
pub struct LeaseSession {
    pool: PgPool,
    interval: Duration,
    state: Arc<Mutex<Option<Session>>>,
    /// Numbers each session, so a checker never touches a later one.
    sessions: Arc<AtomicU64>,
}

#[derive(Debug)]
struct Session {
    conn: PgConnection,
    /// Held locks: a session's advisory locks are re-entrant, and a second
    /// worker of the same name must not get one.
    keys: HashSet<i64>,
    lost: CancellationToken,
    generation: u64,
}

impl LeaseSession {
    pub fn new(pool: PgPool, interval: Duration) -> Self {
        Self {
            pool,
            interval,
            state: Arc::default(),
            sessions: Arc::default(),
        }
    }

    /// Takes the lease called `name` if no other session holds it.
    pub async fn try_acquire(&self, name: &str) -> Result<Option<WatchedLease>, Error> {
        let context = "take a projection lease";
        let key = key(name);
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|s| s.lost.is_cancelled()) {
            close(state.take());
        }
        if state.is_none() {
            *state = Some(self.open().await?);
        }
        let session = state.as_mut().expect("opened above");
        if session.keys.contains(&key) {
            return Ok(None);
        }
        let taken = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut session.conn)
            .await;
        match taken {
            Ok(true) => {
                session.keys.insert(key);
                Ok(Some(WatchedLease {
                    name: name.to_owned(),
                    key,
                    generation: session.generation,
                    lost: session.lost.clone(),
                    session: Some(self.clone()),
                }))
            }
            Ok(false) => {
                if session.keys.is_empty() {
                    close(state.take());
                }
                Ok(None)
            }
            Err(error) => {
                session.lost.cancel();
                close(state.take());
                Err(Error::db(context)(error))
            }
        }
    }

    /// A new session (outside the pool, see [`session`]) and the task that
    /// checks it.
    async fn open(&self) -> Result<Session, Error> {
        let context = "open the lease session";
        let mut conn = session(&self.pool).await.map_err(Error::db(context))?;
        let expiry_ms = self.interval.as_millis().saturating_mul(3).max(1000);
        sqlx::query(&format!("SET idle_session_timeout = {expiry_ms}"))
            .execute(&mut conn)
            .await
            .map_err(Error::db(context))?;
        let generation = self.sessions.fetch_add(1, Ordering::Relaxed) + 1;
        let lost = CancellationToken::new();
        tokio::spawn(self.clone().check_until_lost(generation));
        Ok(Session {
            conn,
            keys: HashSet::new(),
            lost,
            generation,
        })
    }

    /// Checks session `generation` every interval until it closes or fails
    /// a check (an error or no answer within the interval).
    async fn check_until_lost(self, generation: u64) {
        loop {
            tokio::time::sleep(self.interval).await;
            let mut state = self.state.lock().await;
            let Some(session) = state.as_mut().filter(|s| s.generation == generation) else {
                return;
            };
            let reason = match tokio::time::timeout(self.interval, session.conn.ping()).await {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("no answer within {} ms", self.interval.as_millis()),
            };
            tracing::warn!(leases = session.keys.len(), %reason, "lost the lease session");
            session.lost.cancel();
            close(state.take());
            return;
        }
    }

    async fn release(&self, key: i64, generation: u64) {
        let mut state = self.state.lock().await;
        let Some(session) = state.as_mut().filter(|s| s.generation == generation) else {
            return;
        };
        session.keys.remove(&key);
        if session.keys.is_empty() {
            close(state.take());
            return;
        }
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut session.conn);
        if !matches!(
            tokio::time::timeout(self.interval, unlocked).await,
            Ok(Ok(_))
        ) {
            // Could not give it back: end the session, which releases all.
            session.lost.cancel();
            close(state.take());
        }
    }
}

/// Ends a session in the background; every lock it held goes with it.
fn close(session: Option<Session>) {
    if let Some(session) = session {
        tokio::spawn(async move {
            if let Err(error) = session.conn.close().await {
                tracing::debug!(%error, "close the lease session");
            }
        });
    }
}

/// A lease held on a [`LeaseSession`].
#[derive(Debug)]
pub struct WatchedLease {
    name: String,
    key: i64,
    generation: u64,
    lost: CancellationToken,
    session: Option<LeaseSession>,
}

impl WatchedLease {
    /// Resolves once the lease is lost.
    pub async fn lost(&self) {
        self.lost.cancelled().await
    }

    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gives the lease up now.
    pub async fn release(mut self) {
        if let Some(session) = self.session.take() {
            session.release(self.key, self.generation).await;
        }
    }
}

impl Drop for WatchedLease {
    fn drop(&mut self) {
        // Dropped without release (an error path): give it back in the background.
        if let Some(session) = self.session.take() {
            let (key, generation) = (self.key, self.generation);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { session.release(key, generation).await });
            }
        }
    }
}
