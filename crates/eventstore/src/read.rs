//! Reading one stream, for deciding a command or for "state as of".

use crate::copy::{copy_events, opened, EVENT_COLUMNS};
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::store::{EventStore, LogReader};
use chrono::{DateTime, SecondsFormat, Utc};
use deedlog_kernel::number::saturating_i64;
use deedlog_kernel::{StreamId, TenantId};

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

    /// First version, last version and latest instant, as SQL literals.
    /// Built only from integers and a formatted timestamp: safe to inline.
    fn bounds(&self) -> (i64, i64, String) {
        // Bounds: no stored version passes i64::MAX, so clamping selects the same rows.
        let from = saturating_i64(self.from_version);
        let (to, until) = match self.until {
            Until::End => (i64::MAX, None),
            Until::Version(v) => (saturating_i64(v), None),
            Until::Instant(at) => (i64::MAX, Some(at)),
        };
        let until = until.map_or_else(
            || "NULL::timestamptz".to_owned(),
            |at| {
                format!(
                    "'{}'::timestamptz",
                    at.to_rfc3339_opts(SecondsFormat::Micros, true)
                )
            },
        );
        (from, to, until)
    }
}

impl EventStore {
    /// Reads `stream` of `tenant`; another tenant's stream reads as empty.
    pub async fn read_stream(
        &self,
        tenant: TenantId,
        stream: StreamId,
        query: StreamQuery,
    ) -> Result<Vec<RecordedEvent>, Error> {
        // One statement: the function binds the tenant for row-level security.
        let (from, to, until) = query.bounds();
        let sql =
            format!("SELECT * FROM read_stream('{tenant}', '{stream}', {from}, {to}, {until})");
        let mut conn = self
            .app_pool
            .acquire()
            .await
            .map_err(Error::db("read stream"))?;
        let events = copy_events(&mut conn, &sql, &self.upcasters, "read stream").await?;
        drop(conn);
        opened(self.keyring.as_ref(), events).await
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
             WHERE stream_id = '{stream}' AND version BETWEEN {from} AND {to} \
               AND ({until} IS NULL OR recorded_at <= {until}) \
             ORDER BY version"
        );
        let mut conn = self
            .reader_pool
            .acquire()
            .await
            .map_err(Error::db("read stream"))?;
        let events = copy_events(&mut conn, &sql, &self.upcasters, "read stream").await?;
        drop(conn);
        opened(self.keyring.as_ref(), events).await
    }
}
