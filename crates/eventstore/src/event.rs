//! Events going into the log and coming out of it.

use chrono::{DateTime, Utc};
use deedlog_kernel::number::fit;
use deedlog_kernel::Overflow;
use deedlog_kernel::{CausationId, CommandId, CorrelationId, StreamId, TenantId, TraceContext};
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt;

/// An event about to be appended: its type name, schema version and JSON payload.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Box<RawValue>,
}

impl NewEvent {
    /// Serialises `payload` as JSON.
    pub fn new(
        event_type: impl Into<String>,
        schema_version: u32,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_type: event_type.into(),
            schema_version,
            payload: serde_json::value::to_raw_value(payload)?,
        })
    }
}

/// The version a writer expects a stream to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the version (the caller re-decided on the latest state).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// The version as the database function takes it: NULL for any, 0 for no stream.
    /// limits::check refuses a version beyond a bigint before this point.
    pub(crate) fn as_sql(self) -> Result<Option<i64>, Overflow> {
        Ok(match self {
            ExpectedVersion::Any => None,
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(v) => Some(fit("expected version", v)?),
        })
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream (version 0)"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// An event as stored in the log, upcast to its current schema version.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    /// Global position in the log.
    pub position: u64,
    pub tenant_id: TenantId,
    pub stream_id: StreamId,
    pub stream_type: String,
    /// Version of the stream after this event.
    pub version: u64,
    pub event_type: String,
    /// Schema version of `payload` (after upcasting).
    pub schema_version: u32,
    /// Schema version as stored.
    pub stored_schema_version: u32,
    /// The payload as JSON text: as stored, or as produced by the upcasters.
    pub payload: String,
    pub actor: String,
    pub command_id: CommandId,
    pub correlation_id: CorrelationId,
    pub causation_id: CausationId,
    pub trace: Option<TraceContext>,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// Deserialises the payload into a typed event.
    pub fn payload_as<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

impl deedlog_privacy::StoredEvent for RecordedEvent {
    fn tenant(&self) -> uuid::Uuid {
        self.tenant_id.as_uuid()
    }
    fn stream(&self) -> uuid::Uuid {
        self.stream_id.as_uuid()
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
