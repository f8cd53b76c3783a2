//! A fresh database per test (log and read models migrated), stores on it,
//! and a generator of realistic property histories.

use chrono::{NaiveDate, TimeZone, Utc};
use deedlog_kernel::{CommandMetadata, StreamId, TenantId, UserId};
use deedlog_properties_domain::model::{
    Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::{Event, ListingStatus};
use std::collections::BTreeSet;
use uuid::Uuid;

use deedlog_projector::reconcile::{reconcile, Report};
use deedlog_projector::Projection;
use std::sync::Arc;

pub use deedlog_testing::{catch_up, eur, metadata_at, new_stream, options, TestDb};

/// Appends of property events.
pub trait PropertyLog {
    /// Appends `events` to a property stream; returns the last position.
    async fn append(&self, tenant: TenantId, stream: StreamId, events: &[Event]) -> u64;
}

impl PropertyLog for TestDb {
    async fn append(&self, tenant: TenantId, stream: StreamId, events: &[Event]) -> u64 {
        self.append_to(tenant, stream, "property", events, metadata(tenant))
            .await
    }
}

/// Stores a property event with plain SQL, bypassing the store: how a
/// payload that no projection can read gets into a test's log.
pub async fn append_raw(
    db: &TestDb,
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
    .execute(&db.pool)
    .await
    .expect("insert a raw event");
}

/// Metadata of a command by `actor` (e.g. `user:<uuid>`) at `at`.
pub fn metadata_by(tenant: TenantId, actor: &str, at: chrono::DateTime<Utc>) -> CommandMetadata {
    CommandMetadata {
        actor: actor.to_owned(),
        occurred_at: at,
        ..metadata(tenant)
    }
}

/// Metadata of a command by a fresh user at noon on 30 November 2026.
pub fn metadata(tenant: TenantId) -> CommandMetadata {
    let noon = Utc
        .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
        .single()
        .expect("instant");
    metadata_at(tenant, noon)
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

/// Reconciles `projection` against a rebuild in batches of `batch` and
/// asserts that no row is missing, extra or different; returns the report.
pub async fn assert_reconciles_clean(
    db: &TestDb,
    projection: Arc<dyn Projection>,
    batch: u32,
) -> Report {
    let report = reconcile(&db.pool, &db.reader, projection, batch, &mut |_| {})
        .await
        .expect("reconcile");
    assert!(
        report.is_clean(),
        "missing {}, extra {}, differing {}; first: {:?}",
        report.missing,
        report.extra,
        report.differing,
        report.differences.iter().take(3).collect::<Vec<_>>()
    );
    report
}

/// Asserts that two dumps of a read model (as [`schema_rows`] gives them)
/// hold the same rows. Not assert_eq!: a failure would print every row.
pub fn assert_same_rows(a: &[serde_json::Value], b: &[serde_json::Value]) {
    let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
    assert!(
        a.len() == b.len() && differing == 0,
        "{} rows against {}, {differing} differ; first: {:?}",
        a.len(),
        b.len(),
        a.iter().zip(b).find(|(x, y)| x != y)
    );
}

/// Every row of every table of `schema` (e.g. `rm_deals`), as JSON, in
/// one order: what two ways of building a read model are compared by.
pub async fn schema_rows(db: &TestDb, schema: &str) -> Vec<serde_json::Value> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&db.pool)
    .await
    .expect("tables");
    assert!(!tables.is_empty(), "{schema} has no tables");
    let union = tables
        .iter()
        .map(|table| format!("(SELECT to_jsonb(t) FROM {schema}.{table} t)"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sqlx::query_scalar(&format!("{union} ORDER BY 1"))
        .fetch_all(&db.pool)
        .await
        .expect("rows")
}

/// A connection of its own to the test database, after `statements` ran on
/// it: a session a test holds open beside the projector.
pub async fn session(db: &TestDb, statements: &[&str]) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&db.options)
        .await
        .expect("connect");
    for statement in statements {
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    conn
}

/// How many rows `table` (schema-qualified) holds.
pub async fn row_count(db: &TestDb, table: &str) -> i64 {
    db.count(&format!("SELECT count(*) FROM {table}")).await
}
