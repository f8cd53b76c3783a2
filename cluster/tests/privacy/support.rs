//! A fresh, migrated database per test (dropped with the value), an event
//! store on it as the application role, keyrings, and sealed appends the
//! way the service executor makes them.

use chrono::Utc;
use deedlog_eventstore::{
    AppendOutcome, AppendRequest, ConnectOptions, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, StreamQuery, Upcasters,
};
use deedlog_kernel::{CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId};
use deedlog_privacy::{
    CacheLimits, Catalogue, Keyring, MasterKey, MasterKeys, MasterSource, StoredEvent,
};
use serde_json::Value;
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

/// The domains' personal data and forgetting events, as the cluster builds it.
pub fn catalogue() -> Catalogue {
    use deedlog_communications_domain::personal as contacts;
    use deedlog_tenancy_domain::personal as users;
    Catalogue::new(
        &[contacts::PERSONAL, users::PERSONAL],
        &[contacts::FORGETTING, users::FORGETTING],
    )
}

pub fn limits() -> CacheLimits {
    CacheLimits {
        entries: 1000,
        // Long: a key is never read again because it aged out during a test.
        ttl: Duration::from_secs(3600),
    }
}

pub fn configured(current: &MasterKey, retired: &[&MasterKey]) -> MasterSource {
    MasterSource::Configured {
        keys: MasterKeys::new(
            current.clone(),
            retired.iter().map(|k| (*k).clone()).collect(),
        ),
        setting: "privacy.master_key".to_owned(),
    }
}

/// A migrated database of its own, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub options: PgConnectOptions,
    /// The application role's store, without a keyring.
    pub store: EventStore,
    /// The database's owner (the migrating superuser).
    pub owner: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let options = admin_options().database(&name);
        assert!(
            deedlog_eventstore::ensure_database(&options)
                .await
                .expect("create test database"),
            "a fresh name is created"
        );
        deedlog_eventstore::migrate(&options)
            .await
            .expect("migrate test database");
        let connect = ConnectOptions {
            connect: options.clone(),
            max_connections: 3,
            acquire_timeout: Duration::from_secs(10),
            app_role: "deedlog_app".to_owned(),
            reader_role: "deedlog_log_reader".to_owned(),
        };
        let store = EventStore::connect(&connect, Arc::new(Upcasters::new()))
            .await
            .expect("connect store");
        let owner = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await
            .expect("connect as owner");
        Self {
            name,
            options,
            store,
            owner,
        }
    }

    /// How to reach the database as the log's roles, `max` connections a pool.
    pub fn connect_options(&self, max: u32) -> ConnectOptions {
        ConnectOptions {
            connect: self.options.clone(),
            max_connections: max,
            acquire_timeout: Duration::from_secs(10),
            app_role: "deedlog_app".to_owned(),
            reader_role: "deedlog_log_reader".to_owned(),
        }
    }

    /// A keyring with a cache of its own, on the application role's pool.
    pub async fn keyring(&self, master: MasterSource) -> Result<Keyring, deedlog_privacy::Error> {
        Keyring::open(self.store.app_pool().clone(), master, catalogue(), limits()).await
    }

    /// The store reading with `keyring`.
    pub fn store_with(&self, keyring: &Keyring) -> EventStore {
        self.store.clone().with_keyring(keyring.clone())
    }

    pub async fn tenant(&self) -> TenantId {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        self.store
            .register_tenant(tenant)
            .await
            .expect("register tenant");
        tenant
    }

    /// A single connection that has switched to `role`.
    pub async fn connection_as(&self, role: &str) -> PgConnection {
        let mut conn = self.options.connect().await.expect("connect");
        sqlx::query(&format!("SET ROLE {role}"))
            .execute(&mut conn)
            .await
            .expect("set role");
        conn
    }

    /// The key table's row of a subject: (key id, master key id, wrapped
    /// is null, destroyed_at is set), read as the owner.
    pub async fn key_row(
        &self,
        tenant: TenantId,
        subject: Uuid,
    ) -> Option<(Uuid, Option<String>, bool, bool)> {
        sqlx::query_as(
            "SELECT key_id, master_key_id, wrapped IS NULL, destroyed_at IS NOT NULL \
             FROM privacy_keys WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(subject)
        .fetch_optional(&self.owner)
        .await
        .expect("read the key table")
    }

    /// The payload of the event at `position` exactly as stored.
    pub async fn stored_payload(&self, position: u64) -> String {
        sqlx::query_scalar("SELECT payload::text FROM events WHERE position = $1")
            .bind(i64::try_from(position).expect("position"))
            .fetch_one(&self.owner)
            .await
            .expect("read the stored payload")
    }

    pub async fn read(
        &self,
        keyring: &Keyring,
        tenant: TenantId,
        stream: StreamId,
    ) -> Result<Vec<RecordedEvent>, deedlog_eventstore::Error> {
        self.store_with(keyring)
            .read_stream(tenant, stream, StreamQuery::ALL)
            .await
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

pub fn new_stream() -> StreamId {
    StreamId::from_uuid(Uuid::now_v7())
}

/// Seals `events` with `keyring` (as the executor's `encode` does) and
/// appends them to `stream` as the application role.
pub async fn append_sealed(
    store: &EventStore,
    keyring: &Keyring,
    tenant: TenantId,
    (stream, stream_type): (StreamId, &str),
    events: &[(&str, Value)],
) -> AppendOutcome {
    let mut encoded = Vec::new();
    for (event_type, payload) in events {
        let mut payload = payload.clone();
        keyring
            .seal(tenant.as_uuid(), stream.as_uuid(), event_type, &mut payload)
            .await
            .expect("seal");
        encoded.push(NewEvent::new(*event_type, 1, &payload).expect("serialises"));
    }
    store
        .append(&AppendRequest {
            fingerprint: None,
            stream_id: stream,
            stream_type: stream_type.to_owned(),
            expected: ExpectedVersion::Any,
            metadata: metadata(tenant),
            events: encoded,
        })
        .await
        .expect("append")
}

/// An event as a test holds it, to open with [`Keyring::open_events`].
#[derive(Debug, Clone)]
pub struct Held {
    pub tenant: Uuid,
    pub stream: Uuid,
    pub position: u64,
    pub event_type: String,
    pub payload: String,
}

impl StoredEvent for Held {
    fn tenant(&self) -> Uuid {
        self.tenant
    }
    fn stream(&self) -> Uuid {
        self.stream
    }
    fn position(&self) -> u64 {
        self.position
    }
    fn event_type(&self) -> &str {
        &self.event_type
    }
    fn payload(&self) -> &str {
        &self.payload
    }
    fn set_payload(&mut self, payload: String) {
        self.payload = payload;
    }
}

/// The key id (`k`) of the sealed field at top-level `field` of `payload`.
pub fn key_id_of(payload: &Value, field: &str) -> Uuid {
    payload[field]["$sealed"]["k"]
        .as_str()
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("`{field}` is sealed with a key id: {payload}"))
}

pub fn payload(event: &RecordedEvent) -> Value {
    serde_json::from_str(&event.payload).expect("a JSON payload")
}
