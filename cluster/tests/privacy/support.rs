//! A fresh, migrated database per test (dropped with the value), an event
//! store on it as the application role, keyrings, and sealed appends the
//! way the service executor makes them.

use chrono::Utc;
use deedlog_eventstore::{
    AppendOutcome, AppendRequest, ConnectOptions, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, StreamQuery,
};
use deedlog_kernel::{CommandMetadata, StreamId, TenantId};
use deedlog_privacy::{
    CacheLimits, Catalogue, Keyring, MasterKey, MasterKeys, MasterSource, StoredEvent,
};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{ConnectOptions as _, PgConnection};
use std::time::Duration;
use uuid::Uuid;

pub use deedlog_testing::new_stream;

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

/// A migrated database of its own (`deedlog_testing`'s, dropped with it).
pub struct TestDb {
    db: deedlog_testing::TestDb,
    pub options: PgConnectOptions,
    /// The application role's store, without a keyring.
    pub store: EventStore,
    /// The database's owner (the migrating superuser).
    pub owner: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let db = deedlog_testing::TestDb::named(&name, 2).await;
        Self {
            options: db.options.clone(),
            store: db.store.clone(),
            owner: db.pool.clone(),
            db,
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
        self.db.tenant().await
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

pub fn metadata(tenant: TenantId) -> CommandMetadata {
    deedlog_testing::metadata_at(tenant, Utc::now())
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
