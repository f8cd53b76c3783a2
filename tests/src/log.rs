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

    /// The type and stream of the event at `position`.
    pub async fn event_at(cluster: &TestCluster, position: u64) -> (String, uuid::Uuid) {
        let mut conn = cluster.database_options().connect().await.expect("connect");
        let event = sqlx::query_as("SELECT event_type, stream_id FROM events WHERE position = $1")
            .bind(i64::try_from(position).expect("a position fits i64"))
            .fetch_one(&mut conn)
            .await
            .expect("the event at the position");
        let _ = conn.close().await;
        event
    }

    /// The events appended since `self`, in log order: type, the
    /// transaction that appended it (`xmin`) and position.
    pub async fn appended_with_transactions_since(
        &self,
        cluster: &TestCluster,
    ) -> Vec<(String, String, i64)> {
        let mut conn = cluster.database_options().connect().await.expect("connect");
        let events = sqlx::query_as(
            "SELECT event_type, xmin::text, position FROM events ORDER BY position OFFSET $1",
        )
        .bind(self.events)
        .fetch_all(&mut conn)
        .await
        .expect("read the log");
        let _ = conn.close().await;
        events
    }

    /// The event types appended since `self` was taken, in log order.
    pub async fn appended_since(&self, cluster: &TestCluster) -> Vec<String> {
        let appended = self.appended_with_transactions_since(cluster).await;
        appended
            .into_iter()
            .map(|(event_type, _, _)| event_type)
            .collect()
    }
}
