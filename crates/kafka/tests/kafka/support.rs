//! Databases, settings and a workload for the Kafka tests.

#[path = "../../../../projections/projector/benches/projections/history.rs"]
#[allow(dead_code)]
mod history;

use chrono::{TimeZone, Utc};
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, Upcasters,
};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId, UserId,
};
use deedlog_runtime::settings::KafkaSettings;
use history::{Rng, StreamHistory};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn admin_options() -> PgConnectOptions {
    std::env::var("DEEDLOG_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
        .parse()
        .expect("DEEDLOG_TEST_ADMIN_URL is a PostgreSQL URL")
}

/// A migrated database of its own (log and read models).
pub struct TestDb {
    pub name: String,
    pub options: PgConnectOptions,
    pub store: EventStore,
    pub reader: LogReader,
    /// As the owner: what projectors connect as.
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let options = admin_options().database(&name);
        deedlog_eventstore::ensure_database(&options)
            .await
            .expect("create database");
        deedlog_eventstore::migrate(&options)
            .await
            .expect("migrate the log");
        deedlog_projector::migrate::migrate(&options)
            .await
            .expect("migrate read models");
        let connect = ConnectOptions {
            connect: options.clone(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            app_role: "deedlog_app".to_owned(),
            reader_role: "deedlog_log_reader".to_owned(),
        };
        let upcasters = Arc::new(Upcasters::new());
        let store = EventStore::connect(&connect, upcasters.clone())
            .await
            .expect("store");
        let reader = LogReader::connect(&connect, upcasters)
            .await
            .expect("reader");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options.clone())
            .await
            .expect("owner pool");
        Self {
            name,
            options,
            store,
            reader,
            pool,
        }
    }

    pub async fn drop_database(self) {
        self.pool.close().await;
        self.reader.pool().close().await;
        self.store.app_pool().close().await;
        let mut conn = sqlx::ConnectOptions::connect(&admin_options())
            .await
            .expect("admin");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .expect("drop database");
    }

    /// Every position of the log, in order.
    pub async fn positions(&self) -> Vec<u64> {
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
