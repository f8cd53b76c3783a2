//! A fresh database per test (log and read models migrated), stores on it,
//! and a generator of realistic property histories.

use chrono::{NaiveDate, TimeZone, Utc};
use deedlog_eventstore::{
    AppendRequest, ConnectOptions, EventStore, ExpectedVersion, LogReader, NewEvent, Upcasters,
};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, Currency, DomainEvent, Money, StreamId,
    TenantId, UserId,
};
use deedlog_projector::{Projection, Projector, Step};
use deedlog_properties_domain::model::{
    Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::{Event, ListingStatus};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
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
    pub options: PgConnectOptions,
    pub store: EventStore,
    pub reader: LogReader,
    /// As the owner: what the projector connects as.
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
            max_connections: 20,
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
            .max_connections(12)
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

    pub async fn tenant(&self) -> TenantId {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        self.store
            .register_tenant(tenant)
            .await
            .expect("register tenant");
        tenant
    }

    /// Appends `events` to a property stream; returns the last position.
    pub async fn append(&self, tenant: TenantId, stream: StreamId, events: &[Event]) -> u64 {
        let request = AppendRequest {
            stream_id: stream,
            stream_type: "property".to_owned(),
            expected: ExpectedVersion::Any,
            metadata: metadata(tenant),
            events: events.iter().map(new_event).collect(),
        };
        self.store
            .append(&request)
            .await
            .expect("append")
            .last_position()
    }

    /// Appends any context's `events` to a stream of `stream_type` under
    /// `metadata`; returns the last position.
    pub async fn append_to<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        events: &[E],
        metadata: CommandMetadata,
    ) -> u64 {
        assert_eq!(metadata.tenant_id, tenant, "the metadata names the tenant");
        let request = AppendRequest {
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

    /// Stores an event with plain SQL, bypassing the store: how a payload
    /// that no projection can read gets into a test's log.
    pub async fn append_raw(
        &self,
        tenant: TenantId,
        stream: StreamId,
        version: i64,
        event_type: &str,
        payload: &str,
    ) {
        sqlx::query(
            "INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version, payload, \
             actor, command_id, correlation_id, causation_id, occurred_at, recorded_at) \
             VALUES ($1, $2, 'property', $3, $4, 1, $5::json, 'user:x', gen_random_uuid(), gen_random_uuid(), \
             gen_random_uuid(), now(), now())",
        )
        .bind(tenant.as_uuid())
        .bind(stream.as_uuid())
        .bind(version)
        .bind(event_type)
        .bind(payload)
        .execute(&self.pool)
        .await
        .expect("insert a raw event");
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

pub fn options(batch: u32) -> deedlog_eventstore::SubscriptionOptions {
    deedlog_eventstore::SubscriptionOptions {
        batch_size: batch,
        poll_interval: Duration::from_millis(50),
    }
}

/// Metadata of a command by `actor` (e.g. `user:<uuid>`) at `at`.
pub fn metadata_by(tenant: TenantId, actor: &str, at: chrono::DateTime<Utc>) -> CommandMetadata {
    CommandMetadata {
        actor: actor.to_owned(),
        occurred_at: at,
        ..metadata(tenant)
    }
}

/// Steps `projector` until it has nothing more to apply.
pub async fn catch_up(projector: &mut Projector) -> u64 {
    let mut events = 0;
    while let Step::Progressed { events: n, .. } = projector.project_batch().await.expect("project")
    {
        events += n as u64;
    }
    events
}

pub fn metadata(tenant: TenantId) -> CommandMetadata {
    CommandMetadata {
        tenant_id: tenant,
        actor: format!("user:{}", Uuid::now_v7()),
        command_id: CommandId::from_uuid(Uuid::now_v7()),
        correlation_id: CorrelationId::from_uuid(Uuid::now_v7()),
        causation_id: CausationId::from_uuid(Uuid::now_v7()),
        occurred_at: Utc
            .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .single()
            .expect("instant"),
        trace: None,
    }
}

pub fn new_event<E: serde::Serialize + DomainEvent>(event: &E) -> NewEvent {
    let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encode");
    NewEvent::new(event_type, 1, &payload).expect("serialise")
}

pub fn new_stream() -> StreamId {
    StreamId::from_uuid(Uuid::now_v7())
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

pub fn created(city: &str, price: i64) -> Event {
    Event::PropertyCreated {
        address: Address {
            street: "Lindenstraße 5".into(),
            postal_code: "10969".into(),
            city: city.into(),
            country: "DE".into(),
            latitude: Some(52.5),
            longitude: Some(13.4),
        },
        kind: PropertyKind::Apartment,
        attributes: Attributes {
            rooms: Some(Sourced {
                value: 3,
                provenance: Provenance {
                    source: Source::Manual,
                    confidence_pct: 100,
                },
            }),
            ..Attributes::default()
        },
        asking_price: Some(eur(price)),
        agent: Some(UserId::from_uuid(Uuid::now_v7())),
        owner: None,
        tags: BTreeSet::from(["balcony".to_owned()]),
    }
}

/// The `n`-th change of a property's history: a realistic spread of
/// price changes, status moves, tags, valuations and archiving.
pub fn change(n: u64, price: &mut i64) -> Event {
    let statuses = [
        ListingStatus::Active,
        ListingStatus::Reserved,
        ListingStatus::Active,
        ListingStatus::Withdrawn,
    ];
    match n % 8 {
        0..=2 => {
            let from = *price;
            *price -= 500_000;
            Event::AskingPriceChanged {
                from: Some(eur(from)),
                to: eur(*price),
            }
        }
        3 => Event::ListingStatusChanged {
            from: ListingStatus::Draft,
            to: statuses[(n as usize / 8) % statuses.len()],
        },
        4 => Event::TagAdded {
            tag: format!("tag{}", n % 5),
        },
        5 => Event::ValuationRecorded {
            value: eur(*price + 1_000_000),
            source: Source::Provider("PriceHubble".into()),
            valued_on: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        },
        6 => Event::TagRemoved {
            tag: format!("tag{}", (n + 1) % 5),
        },
        _ => {
            if n % 16 == 7 {
                Event::PropertyArchived {}
            } else {
                Event::PropertyRestored {}
            }
        }
    }
}
