//! The audit history: the log's own `events`, filtered by record, actor,
//! event type and time, and the summaries of reconciliation runs.
//!
//! Unlike the other modules this one reads the event log itself, not a
//! projection: every change with who, when and why is the log, so there is
//! no read model to lag or drift. Access, both within a [`crate::TenantScope`]:
//!
//! * `events` (log migration `0001`): `deedlog_app` has `SELECT`, and the
//!   `events_of_app` policy shows it the bound tenant's events only, so
//!   another tenant's events are invisible here as everywhere else.
//!   Payloads are returned as stored, with their stored `schema_version`
//!   (this crate links no upcaster; `docs/events.md` has every version),
//!   except that credential material is redacted: in a `credentials`
//!   stream's payloads every value but an instant reads `[redacted]`
//!   (`deedlog_kernel::redaction`, ADR 0023).
//! * `deedlog_read.reconciliation_runs` (read migration `0002`): runs are
//!   global, not per tenant, and a run's `report` holds the keys and values
//!   of differing rows of every tenant. So `deedlog_app` has a column grant
//!   on the summary columns only ([`ReconciliationRunRow`]), with a policy
//!   that shows every run: a tenant's auditor sees that a projection was
//!   reconciled and how many rows differed, never which.
//!
//! Time filters compare with `recorded_at`, when the log stored the event:
//! the clock the state-as-of reads (`GetAsOf`) use, so "the events up to T"
//! and "the state as of T" agree.

use crate::error::Error;
use crate::freshness::Projection;
use crate::int64::Int64;
use crate::list::{position_key, Listing, Order};
use crate::page::{Connection, Page, MAX_FIRST};
use crate::where_clause::{Bind, WhereClause};
use chrono::{DateTime, SecondsFormat, Utc};
use deedlog_kernel::redaction;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// One event of the log, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "EventRecord")
)]
pub struct EventRow {
    /// Global position in the log; the cursor of the history.
    pub position: Int64,
    /// The record (its stream id).
    pub stream_id: Uuid,
    /// The kind of record: `property`, `deal`, `contact`, `tenant`, …
    pub stream_type: String,
    /// The record's version after this event.
    pub version: Int64,
    /// The event's type, e.g. `AskingPriceChanged`.
    pub event_type: String,
    /// The payload's schema version as stored.
    pub schema_version: i32,
    /// The payload as stored, except in `credentials` streams: there every
    /// value but an instant reads `[redacted]` (`deedlog_kernel::redaction`).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub payload: serde_json::Value,
    /// Who: `user:<uuid>`, or a system actor.
    pub actor: String,
    /// The command that caused the event.
    pub command_id: Uuid,
    /// The business flow it belongs to.
    pub correlation_id: Uuid,
    /// The message that caused the command.
    pub causation_id: Uuid,
    /// When the command was accepted (the service's clock).
    pub occurred_at: DateTime<Utc>,
    /// When the log stored the event.
    pub recorded_at: DateTime<Utc>,
}

/// Which events to show; every field set narrows the history (all must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// One record's events.
    pub record: Option<Uuid>,
    /// One actor's events, e.g. `user:<uuid>`.
    pub actor: Option<String>,
    /// One event type's events, e.g. `AskingPriceChanged`.
    pub event_type: Option<String>,
    /// Recorded at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before this instant.
    pub to: Option<DateTime<Utc>>,
}

const EVENT_COLUMNS: &str = "position, stream_id, stream_type, version, event_type, \
    schema_version, payload, actor, command_id, correlation_id, causation_id, occurred_at, \
    recorded_at";

/// Opens the sealed personal fields of `rows` (events of `tenant`) with
/// the key service, so people see a person's data while it is kept and the
/// erased marker once they are forgotten (ADR 0035); never the envelopes.
pub async fn open<'a>(
    rows: impl IntoIterator<Item = &'a mut EventRow>,
    tenant: Uuid,
    keyring: &deedlog_privacy::Keyring,
) -> Result<(), Error> {
    // Every row: legacy rows (personal data in clear) are erased once their
    // subject is forgotten, sealed rows opened; others pass unchanged.
    let mut opening: Vec<Opening<'_>> = rows
        .into_iter()
        .map(|row| {
            let text = row.payload.to_string();
            Opening { tenant, row, text }
        })
        .collect();
    keyring.open_events(&mut opening).await?;
    for o in opening {
        // The key service wrote this text from a JSON value: it parses.
        o.row.payload = serde_json::from_str(&o.text).unwrap_or_default();
    }
    Ok(())
}

/// An audit row as the key service opens it.
struct Opening<'a> {
    tenant: Uuid,
    row: &'a mut EventRow,
    text: String,
}

impl deedlog_privacy::StoredEvent for Opening<'_> {
    fn tenant(&self) -> Uuid {
        self.tenant
    }
    fn stream(&self) -> Uuid {
        self.row.stream_id
    }
    fn position(&self) -> u64 {
        u64::try_from(self.row.position.0).unwrap_or_default()
    }
    fn event_type(&self) -> &str {
        &self.row.event_type
    }
    fn payload(&self) -> &str {
        &self.text
    }
    fn set_payload(&mut self, payload: String) {
        self.text = payload;
    }
}

/// A page of the tenant's events, oldest first (by log position; the
/// cursor is the position).
///
/// How each filter is served (log migration `0002`; row-level security adds
/// the tenant to every statement): a record by the unique
/// `(stream_id, version)` index, only that record's events read; an actor by
/// `events_by_tenant_actor`, only that actor's events read; everything else
/// by `events_by_tenant` in position order, rows checked against the type
/// and time filters until the page is full. That last walk is bounded by
/// the page's LIMIT, not by an index on the filter: a rare event type or a
/// late time range reads more of the tenant's history before the page
/// fills, which audit queries run by hand can afford and which spares every
/// append the cost of more indexes.
///
/// Measured on a log of a million events of 50 tenants: a record's, an
/// actor's and the unfiltered page each took under a millisecond; a type
/// found in 1% of events within the last few days, the worst case, 0.7 s.
pub async fn events(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    page: &Page,
) -> Result<Connection<EventRow>, Error> {
    let mut rows = listing(filter)?
        .page(
            conn,
            page,
            |clause, _| position_key(page, clause),
            |r: &EventRow| r.position.to_string(),
            "read the audit history",
        )
        .await?;
    // Credential material never reaches a person (ADR 0023).
    for edge in &mut rows.edges {
        redaction::redact(&edge.node.stream_type, &mut edge.node.payload);
    }
    Ok(rows)
}

/// How many of the tenant's events the filter keeps.
pub async fn count(conn: &mut PgConnection, filter: &AuditFilter) -> Result<i64, Error> {
    listing(filter)?
        .count(conn, "count the audit history")
        .await
}

/// The history's statements, the filter checked.
fn listing(filter: &AuditFilter) -> Result<Listing, Error> {
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(Error::bad_input(
                "from",
                format!(
                    "the range starts ({}) after it ends ({}); `from` must not be after `to`",
                    from.to_rfc3339_opts(SecondsFormat::Micros, true),
                    to.to_rfc3339_opts(SecondsFormat::Micros, true)
                ),
            ));
        }
    }
    // Dynamic SQL, safe by construction: see `WhereClause`.
    let mut filters = WhereClause::default();
    if let Some(record) = filter.record {
        filters.add("stream_id = {}", Bind::Id(record));
    }
    if let Some(actor) = &filter.actor {
        filters.add("actor = {}", Bind::Text(actor.clone()));
    }
    if let Some(event_type) = &filter.event_type {
        filters.add("event_type = {}", Bind::Text(event_type.clone()));
    }
    if let Some(from) = filter.from {
        filters.add("recorded_at >= {}", Bind::Time(from));
    }
    if let Some(to) = filter.to {
        filters.add("recorded_at <= {}", Bind::Time(to));
    }
    Ok(Listing::columns(
        EVENT_COLUMNS,
        "events",
        filters,
        Order::asc("position", &["position"], &[]),
    ))
}

/// The summary of one reconciliation run (`deedlog reconcile`); the
/// differences themselves are for operators only (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "ReconciliationRun")
)]
pub struct ReconciliationRunRow {
    /// The run.
    pub id: i64,
    /// The projection reconciled.
    pub projection: String,
    /// The log position both sides were compared at (none until known).
    pub position: Option<Int64>,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it finished (none while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `clean`, `drift` or `failed`.
    pub status: String,
    /// Rows the rebuild has and the live model lacks.
    pub missing_rows: i64,
    /// Rows the live model has and the rebuild lacks.
    pub extra_rows: i64,
    /// Rows both have with other values.
    pub differing_rows: i64,
}

/// The latest `limit` (1 to [`MAX_FIRST`]) reconciliation runs, newest
/// first, of one projection or of all. The table holds one row per
/// operator-run reconciliation, so a sort of the matching rows is cheap;
/// `reconciliation_runs_by_projection` serves one projection's runs.
pub async fn reconciliation_runs(
    conn: &mut PgConnection,
    projection: Option<&str>,
    limit: i64,
) -> Result<Vec<ReconciliationRunRow>, Error> {
    if !(1..=MAX_FIRST).contains(&limit) {
        return Err(Error::bad_input(
            "limit",
            format!("from 1 to {MAX_FIRST} runs may be asked for, but {limit} were"),
        ));
    }
    // An unknown name is refused, naming the projections: a typo should not
    // look like a projection never reconciled.
    let projection = projection
        .map(|name| name.parse::<Projection>())
        .transpose()?;
    sqlx::query_as(
        "SELECT id, projection, position, started_at, finished_at, status, missing_rows, \
         extra_rows, differing_rows FROM deedlog_read.reconciliation_runs \
         WHERE ($1::text IS NULL OR projection = $1) \
         ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(projection.map(Projection::name))
    .bind(limit)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the reconciliation runs"))
}
