//! A lease on a projection: a session advisory lock held on a connection of
//! its own, so that one process at a time works a projection and another
//! takes over when that connection closes (the process died or was cut
//! off). A watched lease ([`Lease::watch`]) is checked by a task of its own,
//! so its loss is noticed within the interval however busy the worker is,
//! and its session ends on the server when the holder stops checking (a
//! frozen process). Correctness does not rest on it: the new holder bumps
//! the checkpoint's lease epoch, and every batch compares it (see
//! `checkpoint::lock_at`), so a worker that lost its lease commits nothing.

use crate::error::Error;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A held lease; dropping it closes the connection, which releases it.
#[derive(Debug)]
pub struct Lease {
    name: String,
    conn: PgConnection,
}

/// The advisory-lock key of `name`: stable across processes and versions.
fn key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("deedlog.lease.{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Lease {
    /// Takes the lease called `name` if no other session holds it.
    pub async fn try_acquire(pool: &PgPool, name: &str) -> Result<Option<Lease>, Error> {
        let context = "take a projection lease";
        // Detached: the lock belongs to the session and must not return to
        // the pool with the connection.
        let mut conn = pool.acquire().await.map_err(Error::db(context))?.detach();
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

    /// Checks that the session holding the lease is still alive.
    pub async fn check(&mut self) -> Result<(), Error> {
        self.conn
            .ping()
            .await
            .map_err(Error::db("check a projection lease"))
    }

    /// Hands the lease to a task that checks it every `interval` and
    /// reports its loss (a failed or hung check) through the returned
    /// handle. The server ends the lease's session when no check came for
    /// three intervals, so a frozen holder gives the lease up by itself.
    pub async fn watch(mut self, interval: Duration) -> Result<WatchedLease, Error> {
        let expiry_ms = interval.as_millis().saturating_mul(3).max(1000);
        sqlx::query(&format!("SET idle_session_timeout = {expiry_ms}"))
            .execute(&mut self.conn)
            .await
            .map_err(Error::db("set a projection lease to expire"))?;
        let lost = CancellationToken::new();
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (lost, stop) = (lost.clone(), stop.clone());
            async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return self.release().await,
                        _ = tokio::time::sleep(interval) => {}
                    }
                    let reason = match tokio::time::timeout(interval, self.check()).await {
                        Ok(Ok(())) => continue,
                        Ok(Err(error)) => error.to_string(),
                        Err(_) => format!("no answer within {} ms", interval.as_millis()),
                    };
                    tracing::warn!(lease = %self.name, %reason, "lost a projection lease");
                    lost.cancel();
                    return;
                }
            }
        });
        Ok(WatchedLease {
            lost,
            stop,
            task: Some(task),
        })
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

/// A lease checked by a task of its own (see [`Lease::watch`]).
#[derive(Debug)]
pub struct WatchedLease {
    lost: CancellationToken,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl WatchedLease {
    /// Resolves once the lease is lost.
    pub async fn lost(&self) {
        self.lost.cancelled().await
    }

    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// Gives the lease up now.
    pub async fn release(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::debug!(%error, "stop a lease watcher");
            }
        }
    }
}

impl Drop for WatchedLease {
    fn drop(&mut self) {
        // Dropped without release (an error path): the task closes the
        // connection on its own.
        self.stop.cancel();
    }
}
