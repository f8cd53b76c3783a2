//! What a test database's log holds, to check that a refused command
//! stored nothing.

use crate::TestCluster;
use sqlx::{ConnectOptions, Connection};

/// The size of the log and of what lives beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCounts {
    pub events: i64,
    pub commands: i64,
    pub tenants: i64,
}

impl LogCounts {
    /// Counts the rows of `cluster`'s log now.
    pub async fn of(cluster: &TestCluster) -> Self {
        let mut conn = cluster.database_options().connect().await.expect("connect");
        let (events, commands, tenants) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM commands), \
                    (SELECT count(*) FROM tenants)",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count the log");
        let _ = conn.close().await;
        Self {
            events,
            commands,
            tenants,
        }
    }

    /// The event types appended since `self` was taken, in log order.
    pub async fn appended_since(&self, cluster: &TestCluster) -> Vec<String> {
        let mut conn = cluster.database_options().connect().await.expect("connect");
        let types = sqlx::query_scalar("SELECT event_type FROM events ORDER BY position OFFSET $1")
            .bind(self.events)
            .fetch_all(&mut conn)
            .await
            .expect("read the log");
        let _ = conn.close().await;
        types
    }
}
