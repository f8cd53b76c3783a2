//! Databases, settings and a workload for the Kafka tests.

#[path = "../../../../projections/projector/benches/projections/history.rs"]
#[allow(dead_code)]
mod history;

use chrono::{TimeZone, Utc};
use deedlog_eventstore::{AppendRequest, ExpectedVersion};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId, UserId,
};
use deedlog_runtime::settings::KafkaSettings;
use history::{Rng, StreamHistory};
use std::time::Duration;
use uuid::Uuid;

pub use deedlog_testing::TestDb;

/// The log's positions.
pub trait Positions {
    /// Every position of the log, in order.
    async fn positions(&self) -> Vec<u64>;
}

impl Positions for TestDb {
    async fn positions(&self) -> Vec<u64> {
        let rows: Vec<i64> = sqlx::query_scalar("SELECT position FROM events ORDER BY position")
            .fetch_all(&self.pool)
            .await
            .expect("positions");
        rows.into_iter().map(|p| p as u64).collect()
    }
}

/// Settings for a broker and a topic of the test's own.
pub fn kafka_settings(brokers: &str, partitions: u32) -> KafkaSettings {
    let suffix = Uuid::now_v7().simple().to_string();
    KafkaSettings {
        brokers: brokers.to_owned(),
        topic: format!("deedlog.test.{suffix}"),
        partitions,
        replication_factor: 1,
        create_topic: true,
        client_id: "deedlog-test".into(),
        group_id: format!("deedlog-test-{suffix}"),
        relay_name: "test".into(),
        max_in_flight: 10_000,
        progress_interval_ms: 20,
        watermark_interval_ms: 50,
        startup_timeout_ms: 3_000,
        relay_metrics_listen: String::new(),
        producer: Default::default(),
        consumer: Default::default(),
    }
}

/// Tenants (with agents) for a workload.
pub struct Workload {
    rng: Rng,
    tenants: Vec<(TenantId, Vec<UserId>)>,
    n: u64,
}

impl Workload {
    pub async fn new(db: &TestDb, tenants: usize, seed: u64) -> Self {
        let mut list = Vec::new();
        for _ in 0..tenants {
            let tenant = TenantId::from_uuid(Uuid::now_v7());
            db.store.register_tenant(tenant).await.expect("tenant");
            let agents = (0..3).map(|_| UserId::from_uuid(Uuid::now_v7())).collect();
            list.push((tenant, agents));
        }
        Self {
            rng: Rng::new(seed),
            tenants: list,
            n: 0,
        }
    }

    /// Appends `streams` generated record histories (properties, deals,
    /// contacts), one command each; returns the number of events.
    pub async fn append(&mut self, db: &TestDb, streams: usize) -> u64 {
        let mut events = 0;
        for _ in 0..streams {
            let (tenant, agents) =
                &self.tenants[self.rng.below(self.tenants.len() as u64) as usize];
            let at = Utc
                .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
                .single()
                .expect("instant")
                + chrono::Duration::minutes(self.n as i64);
            self.n += 1;
            let StreamHistory {
                stream_type,
                events: new,
            } = match self.rng.below(10) {
                0..=3 => history::property(&mut self.rng, agents),
                4..=6 => history::deal(&mut self.rng, agents),
                _ => history::contact(&mut self.rng, at),
            };
            events += new.len() as u64;
            let request = AppendRequest {
                fingerprint: None,
                stream_id: StreamId::from_uuid(Uuid::now_v7()),
                stream_type: stream_type.into(),
                expected: ExpectedVersion::NoStream,
                metadata: CommandMetadata {
                    tenant_id: *tenant,
                    command_id: CommandId::from_uuid(Uuid::now_v7()),
                    correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
                    causation_id: CausationId::from_uuid(Uuid::now_v7()),
                    actor: format!("user:{}", agents[0]),
                    occurred_at: at,
                    trace: None,
                },
                events: new,
            };
            db.store.append(&request).await.expect("append a history");
        }
        events
    }
}

/// Waits until `done` holds, up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
