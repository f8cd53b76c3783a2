//! What the integration tests of the projector, the read models and the
//! Kafka adapter share: a database of their own per test (log and read
//! models migrated, dropped afterwards), the event store and log reader on
//! it, and projectors over it. Tests talk to the real PostgreSQL named by
//! `DEEDLOG_TEST_ADMIN_URL` (default: the local server as `postgres`).

use chrono::{DateTime, Utc};
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, NewEvent,
    SubscriptionOptions, Upcasters,
};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, Currency, DomainEvent, Money, StreamId,
    TenantId,
};
use deedlog_projector::{Projection, Projector, Step};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The server the tests create their databases on.
pub fn admin_options() -> PgConnectOptions {
    std::env::var("DEEDLOG_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
        .parse()
        .expect("DEEDLOG_TEST_ADMIN_URL is a PostgreSQL URL")
}

/// A migrated database of its own, dropped with the value.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub options: PgConnectOptions,
    pub store: EventStore,
    pub reader: LogReader,
    /// As the owner (a superuser in tests): what projectors connect as.
    pub pool: PgPool,
}

impl TestDb {
    /// A database named `deedlog_test_<uuid>`.
    pub async fn new() -> Self {
        Self::named(&format!("deedlog_test_{}", Uuid::now_v7().simple()), 8).await
    }

    /// Database `name`, created afresh (an old one of that name is
    /// dropped), with `connections` per pool.
    pub async fn named(name: &str, connections: u32) -> Self {
        let name = name.to_owned();
        let mut admin = admin_options().connect().await.expect("connect as admin");
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop an old database of that name");
        admin.close().await.expect("close");
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
            max_connections: connections,
            acquire_timeout: Duration::from_secs(30),
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
            .max_connections(connections * 2)
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

    /// A newly registered tenant.
    pub async fn tenant(&self) -> TenantId {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        self.store
            .register_tenant(tenant)
            .await
            .expect("register tenant");
        tenant
    }

    /// Appends any context's `events` to a stream of `stream_type`, with
    /// `metadata` (actor, time); returns the last position.
    pub async fn append_to<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        events: &[E],
        metadata: CommandMetadata,
    ) -> u64 {
        assert_eq!(metadata.tenant_id, tenant, "metadata of the same tenant");
        let request = AppendRequest {
            fingerprint: None,
            stream_id: stream,
            stream_type: stream_type.to_owned(),
            expected: ExpectedVersion::Any,
            metadata,
            events: events.iter().map(new_event).collect(),
        };
        self.store
            .append(&request)
            .await
            .expect("append")
            .last_position()
    }

    /// Appends `events` to a stream of `stream_type` as of `at`, by a fresh
    /// user ([`metadata_at`]); returns the last position.
    pub async fn append_at<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        at: DateTime<Utc>,
        events: &[E],
    ) -> u64 {
        self.append_to(tenant, stream, stream_type, events, metadata_at(tenant, at))
            .await
    }

    /// Opens `projection` on its live schema, creating it when missing.
    pub async fn projector(&self, projection: Arc<dyn Projection>, batch: u32) -> Projector {
        deedlog_projector::runner::ensure_live(self.pool.clone(), projection.clone())
            .await
            .expect("live schema");
        let schema = deedlog_projector::schema::live(projection.name());
        Projector::open(
            projection,
            self.pool.clone(),
            self.reader.clone(),
            schema,
            options(batch),
        )
        .await
        .expect("open projector")
    }

    /// Brings every projection up to the end of the log.
    pub async fn project_all(&self) {
        for projection in deedlog_projector::projections::all() {
            catch_up(&mut self.projector(projection, 100).await).await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop_database(&self.name);
    }
}

/// Drops database `name` from a `Drop` (a thread and a runtime of its own:
/// the test's may be shutting down); says so on stderr when it cannot.
pub fn drop_database(name: &str) {
    let owned = name.to_owned();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let mut conn = admin_options().connect().await.ok()?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{owned}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .ok()?;
            conn.close().await.ok()
        })
    })
    .join();
    if !matches!(dropped, Ok(Some(()))) {
        eprintln!("could not drop test database {name}");
    }
}

/// Subscription options with `batch` events per read and a short poll.
pub fn options(batch: u32) -> SubscriptionOptions {
    SubscriptionOptions {
        batch_size: batch,
        poll_interval: Duration::from_millis(50),
    }
}

/// Steps `projector` until it has nothing more to apply; returns how many
/// events it applied.
pub async fn catch_up(projector: &mut Projector) -> u64 {
    let mut events = 0;
    while let Step::Progressed { events: n, .. } = projector.project_batch().await.expect("project")
    {
        events += n as u64;
    }
    events
}

/// `event` in its stored form (schema version 1).
pub fn new_event<E: serde::Serialize + DomainEvent>(event: &E) -> NewEvent {
    let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encode");
    NewEvent::new(event_type, 1, &payload).expect("serialise")
}

/// Metadata of a command of `tenant` at `at` by a user of its own, with
/// fresh command, correlation and causation ids.
pub fn metadata_at(tenant: TenantId, at: DateTime<Utc>) -> CommandMetadata {
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

/// A new stream's id.
pub fn new_stream() -> StreamId {
    StreamId::from_uuid(Uuid::now_v7())
}

/// `minor` euro cents.
pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}
