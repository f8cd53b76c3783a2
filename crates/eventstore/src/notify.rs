//! Wakes subscribers after appends commit.
//!
//! NOTIFY inside the appending transaction would serialise every commit
//! behind PostgreSQL's global notify lock, held through the WAL flush, and
//! defeat group commit. Instead a background task sends one NOTIFY, in its
//! own transaction, after appends have committed; many appends in quick
//! succession coalesce into one notification. Subscribers also poll, so a
//! lost notification only delays them.

use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel subscribers LISTEN on.
pub const CHANNEL: &str = "deedlog_events";

/// After a notification, appends within this window share the next one: a
/// NOTIFY is a transaction of its own, and one per append under load costs
/// the database more than the millisecond it saves a subscriber.
const COALESCE: Duration = Duration::from_millis(1);

/// Handle used by the append path to request a notification.
#[derive(Debug, Clone)]
pub struct Notifier {
    wake: mpsc::Sender<()>,
}

impl Notifier {
    /// Starts the background task; it ends when every handle is dropped.
    pub fn start(pool: PgPool) -> Self {
        // Capacity 1: a request made while one is pending adds nothing.
        let (wake, mut requests) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while requests.recv().await.is_some() {
                if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(CHANNEL)
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(%error, "notify subscribers of appended events; they will poll");
                }
                tokio::time::sleep(COALESCE).await;
            }
        });
        Self { wake }
    }

    /// Asks for a notification; never blocks.
    pub fn appended(&self) {
        let _ = self.wake.try_send(());
    }
}
