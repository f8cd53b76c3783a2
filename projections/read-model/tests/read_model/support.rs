//! A fresh database per test (log and read models migrated), a way to
//! append events and to project them. The database comes from `deedlog-testing`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, Currency, DomainEvent, Money, StreamId,
    TenantId,
};
use uuid::Uuid;

pub use deedlog_testing::TestDb;

/// Appends as of an instant.
pub trait LogAt {
    /// Appends `events` to a stream of `stream_type` as of `at`; returns
    /// the last position.
    async fn append<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        at: DateTime<Utc>,
        events: &[E],
    ) -> u64;
}

impl LogAt for TestDb {
    async fn append<E: serde::Serialize + DomainEvent>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        stream_type: &str,
        at: DateTime<Utc>,
        events: &[E],
    ) -> u64 {
        self.append_to(tenant, stream, stream_type, events, metadata(tenant, at))
            .await
    }
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
