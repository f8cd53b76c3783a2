//! A lease on a projection: a session advisory lock held on a connection of
//! its own, so that one process at a time works a projection and another
//! takes over when that connection closes (the process died or was cut
//! off). Correctness does not rest on it: every batch also checks the
//! checkpoint it locks (see `checkpoint::lock_at`).

use crate::error::Error;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};

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

    /// Resolves only when the lease is lost (its connection failed a check
    /// made every `interval`).
    pub async fn lost(&mut self, interval: std::time::Duration) -> Error {
        loop {
            tokio::time::sleep(interval).await;
            if let Err(error) = self.check().await {
                return error;
            }
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
