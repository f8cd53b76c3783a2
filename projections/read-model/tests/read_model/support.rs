//! A fresh database per test (log and read models migrated), a way to
//! append events and to project them. Copied in part from the projector's
//! tests (`projections/projector/tests/projector/support.rs`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, NewEvent, Upcasters,
};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, Currency, DomainEvent, Money, StreamId,
    TenantId,
};
use deedlog_projector::{Projector, Step};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection};
use std::sync::Arc;
use uuid::Uuid;

pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var("DEEDLOG_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    url.parse()
        .expect("DEEDLOG_TEST_ADMIN_URL is a PostgreSQL URL")
}

/// A migrated database of its own, dropped with the value.
pub struct TestDb {
    pub name: String,
    pub store: EventStore,
    pub reader: LogReader,
    /// As the owner (a superuser in tests): what the projector connects as,
    /// and what the API's pool may be; the scope still applies the policies.
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
            acquire_timeout: std::time::Duration::from_secs(10),
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
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("owner pool");
        Self {
            name,
            store,
            reader,
            pool,
        }
    }

    pub async fn tenant(&self) -> TenantId {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        self.store
            .register_tenant(tenant)
            .await
            .expect("register tenant");
        tenant
    }

    /// Appends `events` to a stream of `stream_type` as of `at`; returns
    /// the last position.
    pub async fn append<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        at: DateTime<Utc>,
        events: &[E],
    ) -> u64 {
        let request = AppendRequest {
            stream_id: stream,
            stream_type: stream_type.to_owned(),
            expected: ExpectedVersion::Any,
            metadata: metadata(tenant, at),
            events: events.iter().map(new_event).collect(),
        };
        self.store
            .append(&request)
            .await
            .expect("append")
            .last_position()
    }

    /// Brings every projection up to the end of the log.
    pub async fn project_all(&self) {
        for projection in deedlog_projector::projections::all() {
            deedlog_projector::runner::ensure_live(self.pool.clone(), projection.clone())
                .await
                .expect("live schema");
            let schema = deedlog_projector::schema::live(projection.name());
            let mut projector = Projector::open(
                projection,
                self.pool.clone(),
                self.reader.clone(),
                schema,
                deedlog_eventstore::SubscriptionOptions {
                    batch_size: 100,
                    poll_interval: std::time::Duration::from_millis(50),
                },
            )
            .await
            .expect("open projector");
            catch_up(&mut projector).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = admin_options().connect().await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

async fn catch_up(projector: &mut Projector) {
    while let Step::Progressed { .. } = projector.project_batch().await.expect("project") {}
}

fn metadata(tenant: TenantId, at: DateTime<Utc>) -> CommandMetadata {
    CommandMetadata {
        tenant_id: tenant,
        actor: format!("user:{}", Uuid::now_v7()),
        command_id: CommandId::from_uuid(Uuid::now_v7()),
        correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
        causation_id: CausationId::from_uuid(Uuid::now_v7()),
        occurred_at: at,
        trace: None,
    }
}

fn new_event<E: serde::Serialize + DomainEvent>(event: &E) -> NewEvent {
    let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encode");
    NewEvent::new(event_type, 1, &payload).expect("serialise")
}

pub fn new_stream() -> StreamId {
    StreamId::from_uuid(Uuid::now_v7())
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

/// 1 December 2026, 09:00 UTC, plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("instant")
        + Duration::hours(hours)
}
