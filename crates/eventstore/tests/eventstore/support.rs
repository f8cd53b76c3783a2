//! A fresh PostgreSQL database per test, stores connected to it, and helpers
//! to build requests. Tests talk to the real server on 127.0.0.1:5432 (or
//! `DEEDLOG_TEST_ADMIN_URL`).

use chrono::Utc;
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, NewEvent, Upcasters,
};
use deedlog_kernel::{CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection, PgConnection};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var("DEEDLOG_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    url.parse()
        .expect("DEEDLOG_TEST_ADMIN_URL is a PostgreSQL URL")
}

/// A migrated database of its own, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let options = admin_options().database(&name);
        let created = deedlog_eventstore::ensure_database(&options)
            .await
            .expect("create test database");
        assert!(created, "a fresh name is created");
        deedlog_eventstore::migrate(&options)
            .await
            .expect("migrate test database");
        Self { name, options }
    }

    /// Connect options for the test database through another host/port (a proxy).
    pub fn via(&self, port: u16) -> ConnectOptions {
        let mut options = self.connect_options();
        options.connect = options.connect.host("127.0.0.1").port(port);
        options
    }

    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            connect: self.options.clone(),
            max_connections: 40,
            acquire_timeout: Duration::from_secs(10),
            app_role: "deedlog_app".to_owned(),
            reader_role: "deedlog_log_reader".to_owned(),
        }
    }

    pub async fn store(&self) -> EventStore {
        self.store_with(Upcasters::new()).await
    }

    pub async fn store_with(&self, upcasters: Upcasters) -> EventStore {
        EventStore::connect(&self.connect_options(), Arc::new(upcasters))
            .await
            .expect("connect store")
    }

    pub async fn reader(&self) -> LogReader {
        LogReader::connect(&self.connect_options(), Arc::new(Upcasters::new()))
            .await
            .expect("connect reader")
    }

    /// A pool connected as the database owner (the migrating superuser).
    pub async fn owner_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self.options.clone())
            .await
            .expect("connect as owner")
    }

    /// A single connection that has switched to `role`.
    pub async fn connection_as(&self, role: &str) -> PgConnection {
        connection_as(&self.options, role).await
    }

    pub async fn count_events(&self) -> i64 {
        let pool = self.owner_pool().await;
        let n = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own.
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

/// A single connection to `options`' database that has switched to `role`.
pub async fn connection_as(options: &PgConnectOptions, role: &str) -> PgConnection {
    let mut conn = options.connect().await.expect("connect");
    sqlx::query(&format!("SET ROLE {role}"))
        .execute(&mut conn)
        .await
        .expect("set role");
    conn
}

/// A registered tenant and a store, the usual starting point.
pub async fn tenant(store: &EventStore) -> TenantId {
    let tenant = TenantId::from_uuid(Uuid::now_v7());
    store
        .register_tenant(tenant)
        .await
        .expect("register tenant");
    tenant
}

/// The usual starting point: a fresh database (keep it bound, as `_db`
/// when unused: dropping it drops the database), its store, a registered
/// tenant and a new stream holding `events` events (0: it does not exist yet).
pub async fn seeded(events: u64) -> (TestDb, EventStore, TenantId, StreamId) {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant = tenant(&store).await;
    let stream = new_stream();
    if events > 0 {
        store
            .append(&request(tenant, stream, ExpectedVersion::NoStream, events))
            .await
            .expect("append");
    }
    (db, store, tenant, stream)
}

/// Appends `streams` new streams of `events` events each; returns the
/// positions written.
pub async fn append_streams(
    store: &EventStore,
    tenant: TenantId,
    streams: usize,
    events: u64,
) -> Vec<u64> {
    let mut positions = Vec::new();
    for _ in 0..streams {
        let outcome = store
            .append(&request(
                tenant,
                new_stream(),
                ExpectedVersion::NoStream,
                events,
            ))
            .await
            .expect("append");
        positions.extend(outcome.positions);
    }
    positions
}

pub fn metadata(tenant: TenantId) -> CommandMetadata {
    CommandMetadata {
        tenant_id: tenant,
        actor: "user:0192f0c4-aaaa-7bbb-8ccc-000000000001".to_owned(),
        command_id: CommandId::from_uuid(Uuid::now_v7()),
        correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
        causation_id: CausationId::from_uuid(Uuid::now_v7()),
        occurred_at: Utc::now(),
        trace: None,
    }
}

pub fn event(event_type: &str, n: u64) -> NewEvent {
    NewEvent::new(
        event_type,
        1,
        &json!({ "n": n, "note": "asking price changed" }),
    )
    .expect("serialises")
}

pub fn request(
    tenant: TenantId,
    stream: StreamId,
    expected: ExpectedVersion,
    count: u64,
) -> AppendRequest {
    AppendRequest {
        fingerprint: None,
        stream_id: stream,
        stream_type: "property".to_owned(),
        expected,
        metadata: metadata(tenant),
        events: (0..count).map(|n| event("PriceChanged", n)).collect(),
    }
}

pub fn new_stream() -> StreamId {
    StreamId::from_uuid(Uuid::now_v7())
}

/// Stores an event with plain SQL as the owner, bypassing the store: how an
/// old schema version or an edge case gets into a test's log.
pub async fn insert_raw_event(
    db: &TestDb,
    tenant: TenantId,
    stream: StreamId,
    version: i64,
    (event_type, schema_version, payload): (&str, i32, &str),
) {
    sqlx::query(
        "INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version, payload, \
         actor, command_id, correlation_id, causation_id, occurred_at, recorded_at) \
         VALUES ($1, $2, 'property', $3, $4, $5, $6::json, 'user:x', gen_random_uuid(), gen_random_uuid(), \
         gen_random_uuid(), now(), now())",
    )
    .bind(tenant.as_uuid())
    .bind(stream.as_uuid())
    .bind(version)
    .bind(event_type)
    .bind(schema_version)
    .bind(payload)
    .execute(&db.owner_pool().await)
    .await
    .expect("insert a raw event");
}
