//! The event format on the topic, for deedlog's own consumers and anyone
//! else's (documented in `docs/kafka-events.md`):
//!
//! * key: the record's id (the stream id) as UUID text, so compaction and
//!   keyed tooling see one record as one key;
//! * partition: chosen by tenant (see [`partition_of`]), so every event of a
//!   tenant, and so of each of its records, is on one partition in log order;
//! * headers: `deedlog-event-type`, `deedlog-schema-version`,
//!   `deedlog-tenant`, `deedlog-position`, `deedlog-stream-type`, and the
//!   W3C `traceparent` / `tracestate` of the command that caused the event;
//! * value: a JSON envelope with every field of the event and the payload
//!   under `data`; a credentials event's payload is redacted as for people
//!   (ADR 0023): a topic is read by more systems than the log is.

use chrono::{DateTime, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::{CausationId, CommandId, CorrelationId, StreamId, TenantId, TraceContext};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub const HEADER_EVENT_TYPE: &str = "deedlog-event-type";
pub const HEADER_SCHEMA_VERSION: &str = "deedlog-schema-version";
pub const HEADER_TENANT: &str = "deedlog-tenant";
pub const HEADER_POSITION: &str = "deedlog-position";
pub const HEADER_STREAM_TYPE: &str = "deedlog-stream-type";
pub const HEADER_TRACEPARENT: &str = "traceparent";
pub const HEADER_TRACESTATE: &str = "tracestate";
/// On a watermark message (no key, no value): every event of this partition
/// up to this log position was published before it.
pub const HEADER_WATERMARK: &str = "deedlog-watermark";

/// The value of a message: the event, whole.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope<'a> {
    position: u64,
    tenant_id: TenantId,
    stream_type: &'a str,
    stream_id: StreamId,
    version: u64,
    event_type: &'a str,
    schema_version: u32,
    stored_schema_version: u32,
    actor: &'a str,
    command_id: CommandId,
    correlation_id: CorrelationId,
    causation_id: CausationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace: Option<TraceContext>,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// A message that is not a deedlog event.
#[derive(Debug, thiserror::Error)]
#[error("not a deedlog event: {0}")]
pub struct FormatError(String);

/// The message key of `event`.
pub fn key(event: &RecordedEvent) -> String {
    event.stream_id.to_string()
}

/// The message value of `event`.
pub fn value(event: &RecordedEvent) -> Result<Vec<u8>, FormatError> {
    let shown = deedlog_kernel::redaction::is_secret(&event.stream_type)
        .then(|| deedlog_kernel::redaction::redacted_text(&event.stream_type, &event.payload));
    let data: &RawValue = serde_json::from_str(shown.as_deref().unwrap_or(&event.payload))
        .map_err(|e| FormatError(format!("payload at position {}: {e}", event.position)))?;
    let envelope = Envelope {
        position: event.position,
        tenant_id: event.tenant_id,
        stream_type: &event.stream_type,
        stream_id: event.stream_id,
        version: event.version,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        stored_schema_version: event.stored_schema_version,
        actor: &event.actor,
        command_id: event.command_id,
        correlation_id: event.correlation_id,
        causation_id: event.causation_id,
        trace: event.trace.clone(),
        occurred_at: event.occurred_at,
        recorded_at: event.recorded_at,
        data,
    };
    serde_json::to_vec(&envelope).map_err(|e| FormatError(e.to_string()))
}

/// The headers of `event`: what a consumer routes or filters on without
/// parsing the value.
pub fn headers(event: &RecordedEvent) -> OwnedHeaders {
    let schema_version = event.schema_version.to_string();
    let tenant = event.tenant_id.to_string();
    let position = event.position.to_string();
    let mut headers = OwnedHeaders::new_with_capacity(7);
    for (key, value) in [
        (HEADER_EVENT_TYPE, event.event_type.as_str()),
        (HEADER_SCHEMA_VERSION, schema_version.as_str()),
        (HEADER_TENANT, tenant.as_str()),
        (HEADER_POSITION, position.as_str()),
        (HEADER_STREAM_TYPE, event.stream_type.as_str()),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    if let Some(trace) = &event.trace {
        headers = headers.insert(Header {
            key: HEADER_TRACEPARENT,
            value: Some(trace.traceparent.as_str()),
        });
        if let Some(state) = &trace.tracestate {
            headers = headers.insert(Header {
                key: HEADER_TRACESTATE,
                value: Some(state.as_str()),
            });
        }
    }
    headers
}

/// The log position a message carries in its headers, if any (read before
/// the value is parsed, so a repeated event is skipped cheaply).
pub fn position_header<H: Headers + ?Sized>(headers: Option<&H>) -> Option<u64> {
    number_header(headers, HEADER_POSITION)
}

/// The position a watermark message vouches for; None on an event.
pub fn watermark_header<H: Headers + ?Sized>(headers: Option<&H>) -> Option<u64> {
    number_header(headers, HEADER_WATERMARK)
}

/// The headers of a watermark for `position`.
pub fn watermark(position: u64) -> OwnedHeaders {
    OwnedHeaders::new().insert(Header {
        key: HEADER_WATERMARK,
        value: Some(position.to_string().as_str()),
    })
}

fn number_header<H: Headers + ?Sized>(headers: Option<&H>, name: &str) -> Option<u64> {
    let headers = headers?;
    (0..headers.count())
        .filter_map(|i| headers.try_get_as::<[u8]>(i)?.ok())
        .find(|h| h.key == name)
        .and_then(|h| std::str::from_utf8(h.value?).ok()?.parse().ok())
}

/// The event a message value holds.
pub fn decode(value: &[u8]) -> Result<RecordedEvent, FormatError> {
    let envelope: Envelope<'_> =
        serde_json::from_slice(value).map_err(|e| FormatError(e.to_string()))?;
    Ok(RecordedEvent {
        position: envelope.position,
        tenant_id: envelope.tenant_id,
        stream_id: envelope.stream_id,
        stream_type: envelope.stream_type.to_owned(),
        version: envelope.version,
        event_type: envelope.event_type.to_owned(),
        schema_version: envelope.schema_version,
        stored_schema_version: envelope.stored_schema_version,
        payload: envelope.data.get().to_owned(),
        actor: envelope.actor.to_owned(),
        command_id: envelope.command_id,
        correlation_id: envelope.correlation_id,
        causation_id: envelope.causation_id,
        trace: envelope.trace,
        occurred_at: envelope.occurred_at,
        recorded_at: envelope.recorded_at,
    })
}

/// The partition of a tenant's events: Kafka's default partitioner
/// (murmur2 of the key, positive, modulo the count) applied to the tenant
/// id's text, so any Kafka client computes the same partition.
///
/// By tenant, not by record: projections read across a tenant's records
/// (a timeline names users from the tenant's stream), so they need a
/// tenant's events in log order; one record's events stay in order as a
/// consequence (ADR 0014).
pub fn partition_of(tenant: TenantId, partitions: i32) -> i32 {
    let hash = murmur2(tenant.to_string().as_bytes()) & 0x7fff_ffff;
    (hash % partitions.max(1) as u32) as i32
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), seed 0x9747b28c.
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    #[test]
    fn murmur2_matches_kafkas_java_client() {
        // Kafka's UtilsTest.testMurmur2.
        for (input, expected) in [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ] {
            assert_eq!(murmur2(input.as_bytes()) as i32, expected, "{input}");
        }
    }

    #[test]
    fn a_tenant_always_lands_on_one_partition_within_range() {
        for n in 0..200u128 {
            let tenant = TenantId::from_uuid(Uuid::from_u128(n * 7919));
            let p = partition_of(tenant, 12);
            assert!((0..12).contains(&p));
            assert_eq!(p, partition_of(tenant, 12));
        }
    }

    fn event() -> RecordedEvent {
        RecordedEvent {
            position: 42,
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            stream_id: StreamId::from_uuid(Uuid::from_u128(2)),
            stream_type: "property".into(),
            version: 3,
            event_type: "PropertyRepriced".into(),
            schema_version: 2,
            stored_schema_version: 1,
            payload: r#"{"price":{"amount":"1.50","currency":"EUR"}}"#.into(),
            actor: "user:9".into(),
            command_id: CommandId::from_uuid(Uuid::from_u128(4)),
            correlation_id: CorrelationId::from_uuid(Uuid::from_u128(5)),
            causation_id: CausationId::from_uuid(Uuid::from_u128(6)),
            trace: Some(TraceContext {
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
                tracestate: None,
            }),
            occurred_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            recorded_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap(),
        }
    }

    #[test]
    fn credential_material_never_reaches_the_topic() {
        let mut login = event();
        login.stream_type = deedlog_kernel::stream_type::CREDENTIALS.into();
        login.event_type = "PasswordSet".into();
        login.payload = r#"{"hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}"#.into();
        let published = decode(&value(&login).expect("encodes")).expect("decodes");
        assert_eq!(published.payload, r#"{"hash":"[redacted]"}"#);
        assert_eq!(published.event_type, "PasswordSet");
    }

    #[test]
    fn an_event_survives_the_topic_whole() {
        let original = event();
        let back = decode(&value(&original).expect("encodes")).expect("decodes");
        assert_eq!(format!("{original:?}"), format!("{back:?}"));
        assert_eq!(key(&original), "00000000-0000-0000-0000-000000000002");
        let headers = headers(&original);
        assert_eq!(position_header(Some(&headers)), Some(42));
        assert_eq!(watermark_header(Some(&headers)), None);
        let mark = watermark(42);
        assert_eq!(watermark_header(Some(&mark)), Some(42));
        assert_eq!(position_header(Some(&mark)), None);
        let names: Vec<&str> = headers.iter().map(|h| h.key).collect();
        assert_eq!(
            names,
            [
                HEADER_EVENT_TYPE,
                HEADER_SCHEMA_VERSION,
                HEADER_TENANT,
                HEADER_POSITION,
                HEADER_STREAM_TYPE,
                HEADER_TRACEPARENT
            ]
        );
    }

    #[test]
    fn a_foreign_message_is_refused_with_a_reason() {
        let error = decode(b"{\"hello\":1}").expect_err("not an event");
        assert!(error.to_string().contains("missing field"), "{error}");
        assert!(decode(b"\xff").is_err());
    }
}
