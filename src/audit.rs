//! The auditor's subcommands: a record's history, its state as of an
//! instant (folded with the domain's own `evolve`, as the services do), and
//! a streaming export of a tenant's events over a time range.

use anyhow::Context;
use chrono::{DateTime, Utc};
use deedlog_eventstore::{LogReader, RecordedEvent, StreamQuery};
use deedlog_kernel::{codec, redaction, Decider, StreamId, TenantId};
use deedlog_runtime::settings::Settings;
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;
use std::io::Write;
use uuid::Uuid;

/// How `audit export` writes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

async fn reader(settings: &Settings) -> anyhow::Result<LogReader> {
    deedlog_cluster::pools::log_reader(settings).await
}

/// Parses a record id, naming what was wrong.
pub fn record_id(text: &str) -> anyhow::Result<StreamId> {
    Uuid::parse_str(text.trim())
        .map(StreamId::from_uuid)
        .map_err(|e| anyhow::anyhow!("{text:?} is not a record id (a UUID such as 0192f0c4-6d7e-7c3a-9b1e-2f4a5b6c7d8e): {e}"))
}

/// Parses an instant: RFC 3339 with an offset, or a date (midnight UTC).
pub fn instant(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    anyhow::bail!(
        "{text:?} is not an instant: use RFC 3339 with an offset (2026-11-30T10:15:00Z) or a date (2026-11-30)"
    )
}

/// Every event of a record, oldest first; the payloads of credentials
/// streams with their secrets redacted (`deedlog_kernel::redaction`).
pub async fn history(settings: &Settings, record: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let stream = record_id(record)?;
    let events = reader(settings)
        .await?
        .read_stream(stream, StreamQuery::ALL)
        .await
        .context("read the record's events")?;
    if events.is_empty() {
        anyhow::bail!("the log has no record {stream}");
    }
    writeln!(
        out,
        "{} {} of tenant {}",
        events[0].stream_type, stream, events[0].tenant_id
    )?;
    for e in &events {
        writeln!(
            out,
            "v{:<4} position {:<10} {} {:<28} by {:<44} trace {:<32} {}",
            e.version,
            e.position,
            e.recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            e.event_type,
            e.actor,
            // The trace id of the command that appended it (find it in Jaeger).
            e.trace
                .as_ref()
                .and_then(|t| t.traceparent.split('-').nth(1))
                .unwrap_or("-"),
            // Credential material never reaches a person (ADR 0023).
            redaction::redacted_text(&e.stream_type, &e.payload)
        )?;
    }
    Ok(())
}

/// The record's state as the log knew it at `at`, as JSON.
pub async fn as_of(
    settings: &Settings,
    record: &str,
    at: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let stream = record_id(record)?;
    let at = instant(at)?;
    let events = reader(settings)
        .await?
        .read_stream(stream, StreamQuery::as_of(at))
        .await
        .context("read the record's events")?;
    let Some(last) = events.last() else {
        anyhow::bail!(
            "the log had no record {stream} at {}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        );
    };
    use deedlog_kernel::stream_type;
    let state = match last.stream_type.as_str() {
        stream_type::PROPERTY => fold::<deedlog_properties_domain::Properties>(&events)?,
        stream_type::DEAL => fold::<deedlog_deals_domain::Deals>(&events)?,
        stream_type::CONTACT => fold::<deedlog_communications_domain::Communications>(&events)?,
        stream_type::TENANT => fold::<deedlog_tenancy_domain::tenant::Tenants>(&events)?,
        other => anyhow::bail!(
            "records of type {other} have no audit state (credentials and slugs are internal)"
        ),
    };
    let document = serde_json::json!({
        "record_id": stream,
        "record_type": last.stream_type,
        "tenant_id": last.tenant_id,
        "at": at,
        "version": last.version,
        "position": last.position,
        "last_recorded_at": last.recorded_at,
        "state": state,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
    Ok(())
}

fn fold<D>(events: &[RecordedEvent]) -> anyhow::Result<serde_json::Value>
where
    D: Decider,
    D::Event: DeserializeOwned,
    D::State: Serialize,
{
    let state = events.iter().try_fold(D::State::default(), |state, e| {
        let event: D::Event = codec::decode(&e.event_type, &e.payload)
            .with_context(|| format!("decode {} at position {}", e.event_type, e.position))?;
        anyhow::Ok(D::evolve(state, &event))
    })?;
    Ok(serde_json::to_value(state)?)
}

/// Streams a tenant's events recorded in `[from, to)` in position order,
/// the payloads of credentials streams with their secrets redacted
/// (`deedlog_kernel::redaction`); returns how many were written. Rows are
/// written as they arrive, so the size of the export does not matter.
pub async fn export(
    settings: &Settings,
    tenant: &str,
    from: &str,
    to: &str,
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let tenant: TenantId = Uuid::parse_str(tenant.trim())
        .map(TenantId::from_uuid)
        .map_err(|e| anyhow::anyhow!("{tenant:?} is not a tenant id (a UUID): {e}"))?;
    let (from, to) = (instant(from)?, instant(to)?);
    if from >= to {
        anyhow::bail!("--from must be before --to");
    }
    let reader = reader(settings).await?;
    let rows = sqlx::query(
        "SELECT position, stream_type, stream_id, version, event_type, schema_version, actor, \
                command_id, correlation_id, causation_id, occurred_at, recorded_at, payload::text \
         FROM events WHERE tenant_id = $1 AND recorded_at >= $2 AND recorded_at < $3 \
         ORDER BY position",
    )
    .bind(tenant.as_uuid())
    .bind(from)
    .bind(to)
    .fetch(reader.pool());
    const COLUMNS: [&str; 13] = [
        "position",
        "stream_type",
        "stream_id",
        "version",
        "event_type",
        "schema_version",
        "actor",
        "command_id",
        "correlation_id",
        "causation_id",
        "occurred_at",
        "recorded_at",
        "payload",
    ];
    if format == ExportFormat::Csv {
        writeln!(out, "{}", COLUMNS.join(","))?;
    }
    let keyring = reader
        .keyring()
        .context("the log reader opens personal data")?;
    let mut count = 0u64;
    // In chunks, so the key service fetches each chunk's keys in one query.
    let mut chunks = rows.try_chunks(1_000);
    while let Some(chunk) = chunks.try_next().await.context("read the events")? {
        let mut events: Vec<Exported> = chunk
            .iter()
            .map(|row| Exported {
                tenant: tenant.as_uuid(),
                position: row.get::<i64, _>(0),
                stream: row.get::<Uuid, _>(2),
                event_type: row.get::<String, _>(4),
                payload: row.get::<String, _>(12),
            })
            .collect();
        keyring.open_events(&mut events).await?;
        for (row, event) in chunk.iter().zip(events) {
            let text: Vec<String> = vec![
                row.get::<i64, _>(0).to_string(),
                row.get::<String, _>(1),
                row.get::<Uuid, _>(2).to_string(),
                row.get::<i64, _>(3).to_string(),
                row.get::<String, _>(4),
                row.get::<i32, _>(5).to_string(),
                row.get::<String, _>(6),
                row.get::<Uuid, _>(7).to_string(),
                row.get::<Uuid, _>(8).to_string(),
                row.get::<Uuid, _>(9).to_string(),
                row.get::<DateTime<Utc>, _>(10)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                row.get::<DateTime<Utc>, _>(11)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                // Credential material never reaches a person (ADR 0023).
                redaction::redacted_text(&row.get::<String, _>(1), &event.payload),
            ];
            write_row(out, format, &COLUMNS, &text)?;
            count += 1;
        }
    }
    out.flush()?;
    Ok(count)
}

/// Writes one exported event as a CSV line or a JSON line.
fn write_row(
    out: &mut dyn Write,
    format: ExportFormat,
    columns: &[&str],
    text: &[String],
) -> anyhow::Result<()> {
    match format {
        ExportFormat::Csv => {
            let line: Vec<String> = text.iter().map(|v| csv_field(v)).collect();
            writeln!(out, "{}", line.join(","))?;
        }
        ExportFormat::Jsonl => {
            let mut object = serde_json::Map::new();
            for (i, (name, value)) in columns.iter().zip(text).enumerate() {
                let value = match i {
                    0 | 3 | 5 => serde_json::Value::from(value.parse::<i64>().unwrap_or(0)),
                    12 => serde_json::from_str(value).unwrap_or(serde_json::Value::Null),
                    _ => serde_json::Value::from(value.as_str()),
                };
                object.insert((*name).to_owned(), value);
            }
            writeln!(out, "{}", serde_json::Value::Object(object))?;
        }
    }
    Ok(())
}

/// An exported event as the key service opens it (ADR 0035).
struct Exported {
    tenant: Uuid,
    position: i64,
    stream: Uuid,
    event_type: String,
    payload: String,
}

impl deedlog_privacy::StoredEvent for Exported {
    fn tenant(&self) -> Uuid {
        self.tenant
    }
    fn stream(&self) -> Uuid {
        self.stream
    }
    fn position(&self) -> u64 {
        u64::try_from(self.position).unwrap_or_default()
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

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_ids_are_parsed_or_refused_with_the_expected_form() {
        assert_eq!(
            instant("2026-11-30T10:15:00+01:00")
                .expect("rfc 3339")
                .to_rfc3339(),
            "2026-11-30T09:15:00+00:00"
        );
        assert_eq!(
            instant("2026-11-30").expect("date").to_rfc3339(),
            "2026-11-30T00:00:00+00:00"
        );
        let message = instant("yesterday")
            .expect_err("not an instant")
            .to_string();
        assert!(message.contains("RFC 3339"), "{message}");
        let message = record_id("42").expect_err("not a uuid").to_string();
        assert!(message.contains("not a record id"), "{message}");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(
            csv_field(r#"{"a":1,"b":"x"}"#),
            r#""{""a"":1,""b"":""x""}""#
        );
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
