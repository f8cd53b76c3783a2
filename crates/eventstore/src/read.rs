//! Reading one stream, for deciding a command or for "state as of".

use crate::append::to_u64;
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::store::{EventStore, LogReader};
use crate::upcast::Upcasters;
use chrono::{DateTime, Utc};
use deedlog_kernel::{StreamId, TenantId, TraceContext};
use sqlx::postgres::PgRow;
use sqlx::Row;

/// Which part of a stream to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamQuery {
    /// First version to return (1 for the whole stream).
    pub from_version: u64,
    pub until: Until,
}

/// Where a stream read stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The latest event.
    End,
    /// This version, inclusive.
    Version(u64),
    /// The last event the log had recorded at this instant, inclusive.
    Instant(DateTime<Utc>),
}

impl StreamQuery {
    /// The whole stream.
    pub const ALL: StreamQuery = StreamQuery {
        from_version: 1,
        until: Until::End,
    };

    /// The stream as the log knew it at `instant`.
    pub fn as_of(instant: DateTime<Utc>) -> Self {
        Self {
            from_version: 1,
            until: Until::Instant(instant),
        }
    }
}

/// The columns every event read selects, in the order [`decode`] expects.
pub(crate) const EVENT_COLUMNS: &str = "position, tenant_id, stream_id, stream_type, version, \
     event_type, schema_version, payload::text, actor, command_id, correlation_id, causation_id, \
     traceparent, tracestate, occurred_at, recorded_at";

impl EventStore {
    /// Reads `stream` of `tenant`; another tenant's stream reads as empty.
    pub async fn read_stream(
        &self,
        tenant: TenantId,
        stream: StreamId,
        query: StreamQuery,
    ) -> Result<Vec<RecordedEvent>, Error> {
        // One round trip: the function binds the tenant for row-level security.
        let (from, to, until) = query.bounds();
        let rows = sqlx::query("SELECT * FROM read_stream($1, $2, $3, $4, $5)")
            .bind(tenant.as_uuid())
            .bind(stream.as_uuid())
            .bind(from)
            .bind(to)
            .bind(until)
            .fetch_all(&self.app_pool)
            .await
            .map_err(Error::db("read stream"))?;
        rows.iter()
            .map(|row| decode(row, &self.upcasters))
            .collect()
    }
}

impl LogReader {
    /// Reads `stream` whatever its tenant (auditors).
    pub async fn read_stream(
        &self,
        stream: StreamId,
        query: StreamQuery,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let (from, to, until) = query.bounds();
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE stream_id = $1 AND version BETWEEN $2 AND $3 \
               AND ($4::timestamptz IS NULL OR recorded_at <= $4) \
             ORDER BY version"
        );
        let rows = sqlx::query(&sql)
            .bind(stream.as_uuid())
            .bind(from)
            .bind(to)
            .bind(until)
            .fetch_all(&self.reader_pool)
            .await
            .map_err(Error::db("read stream"))?;
        rows.iter()
            .map(|row| decode(row, &self.upcasters))
            .collect()
    }
}

impl StreamQuery {
    /// First version, last version and latest instant, as SQL parameters.
    fn bounds(&self) -> (i64, i64, Option<DateTime<Utc>>) {
        let from = i64::try_from(self.from_version).unwrap_or(i64::MAX);
        match self.until {
            Until::End => (from, i64::MAX, None),
            Until::Version(v) => (from, i64::try_from(v).unwrap_or(i64::MAX), None),
            Until::Instant(at) => (from, i64::MAX, Some(at)),
        }
    }
}

/// Decodes one row selected with [`EVENT_COLUMNS`], upcasting its payload.
pub(crate) fn decode(row: &PgRow, upcasters: &Upcasters) -> Result<RecordedEvent, Error> {
    let position: i64 = row.try_get(0).map_err(corrupt(0))?;
    let get = |e: sqlx::Error| Error::Corrupt {
        position,
        reason: e.to_string(),
    };
    let stored_schema_version: i32 = row.try_get(6).map_err(get)?;
    let stored_schema_version = u32::try_from(stored_schema_version).unwrap_or(0);
    let event_type: String = row.try_get(5).map_err(get)?;
    let payload: String = row.try_get(7).map_err(get)?;
    let (schema_version, payload) =
        upcasters.upcast(&event_type, stored_schema_version, payload)?;
    let traceparent: Option<String> = row.try_get(12).map_err(get)?;
    let tracestate: Option<String> = row.try_get(13).map_err(get)?;
    Ok(RecordedEvent {
        position: to_u64(position),
        tenant_id: TenantId::from_uuid(row.try_get(1).map_err(get)?),
        stream_id: StreamId::from_uuid(row.try_get(2).map_err(get)?),
        stream_type: row.try_get(3).map_err(get)?,
        version: to_u64(row.try_get(4).map_err(get)?),
        event_type,
        schema_version,
        stored_schema_version,
        payload,
        actor: row.try_get(8).map_err(get)?,
        command_id: row.try_get::<uuid::Uuid, _>(9).map_err(get)?.into(),
        correlation_id: row.try_get::<uuid::Uuid, _>(10).map_err(get)?.into(),
        causation_id: row.try_get::<uuid::Uuid, _>(11).map_err(get)?.into(),
        trace: traceparent.map(|traceparent| TraceContext {
            traceparent,
            tracestate,
        }),
        occurred_at: row.try_get(14).map_err(get)?,
        recorded_at: row.try_get(15).map_err(get)?,
    })
}

fn corrupt(position: i64) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::Corrupt {
        position,
        reason: e.to_string(),
    }
}
