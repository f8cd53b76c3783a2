//! Audit: the events of a record, a user, a type or a time range, with
//! actor, correlation and causation; any record's state as of any instant,
//! rebuilt from the log by the service that owns it; reconciliation runs.
//! Admins and auditors.

use super::int64;
use super::page::{connection, page, Connection, Count};
use super::reads::scope;
use crate::error::{bad_input, coded, from_read, from_status, not_found};
use crate::services::{request, Services, TraceParent};
use crate::viewer::allowed;
use async_graphql::ErrorExtensions;
use async_graphql::{
    ComplexObject, Context, Enum, InputObject, Json, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use deedlog_kernel::Role;
use deedlog_proto::common::v1 as pb;
use deedlog_read_model::audit::{self as rm, EventRow, ReconciliationRunRow};
use deedlog_read_model::seal_proof::{self, Proven};
use deedlog_read_model::Int64;
use deedlog_runtime::ErrorCode;
use uuid::Uuid;

const READ: &str = "read the audit history";

/// A stored event, as written (payload at its stored schema version),
/// except that credential material is never shown: see `payload`.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct AuditEvent {
    #[graphql(flatten)]
    pub record: EventRow,
}

#[ComplexObject]
impl AuditEvent {
    /// The event's payload (see docs/events.md for each type and version).
    /// In a `credentials` stream (a user's password and refresh tokens)
    /// every value but an instant (`at`, `until`, `expires_at`) reads
    /// `"[redacted]"`, keys kept: the event's type, time and actor show
    /// that a password was set or a token issued, never the Argon2id hash
    /// or the token's id.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.record.payload.clone())
    }
}

/// Which events to list; every given condition must hold.
#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    /// One record's events.
    pub record: Option<Uuid>,
    /// One user's events (their user id).
    pub user: Option<Uuid>,
    /// Events of one type, e.g. `AskingPriceChanged`.
    pub event_type: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before.
    pub to: Option<DateTime<Utc>>,
}

/// The kinds of records whose state can be rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuditedRecord {
    Property,
    Deal,
    Contact,
    /// The caller's tenant (with its users and roles).
    Tenant,
}

/// A record as its events made it at an instant.
#[derive(Debug, SimpleObject)]
pub struct RecordState {
    pub record_id: String,
    pub record_type: String,
    /// The version of its last event at or before the instant.
    pub version: Int64,
    pub position: Int64,
    /// The instant asked about.
    pub at: Option<DateTime<Utc>>,
    /// When its last event at or before the instant was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The state, as the owning context's rules fold its events.
    pub state: Json<serde_json::Value>,
}

#[derive(Debug, Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The inclusion proof of the tenant's event at `position` (format
    /// `deedlog.audit-proof/1`, docs/audit-proofs.md): the event exactly as
    /// stored (personal fields sealed), its audit path in its block's
    /// Merkle tree, and the block's signed head. Check it offline with the
    /// sealing key's public half (`deedlog audit verify-proof`). NOT_FOUND
    /// when the tenant has no event there; UNAVAILABLE (reason NOT_SEALED)
    /// until the sealer has sealed it. A user's credentials event is never
    /// shown, so never proven here. Admins and auditors.
    async fn audit_proof(
        &self,
        ctx: &Context<'_>,
        position: i32,
    ) -> Result<Json<serde_json::Value>> {
        let viewer = allowed(ctx, Role::may_read_audit, "read the audit history's proofs")?;
        let position = u64::try_from(position)
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| {
                bad_input(format!(
                    "position {position} is not a log position (1 or more)"
                ))
            })?;
        let mut scope = scope(ctx, viewer).await?;
        match seal_proof::proof(scope.conn(), position).await.map_err(from_read)? {
            Proven::Proof(proof) => Ok(Json(serde_json::to_value(*proof)?)),
            Proven::NoEvent => Err(not_found(&format!("event at position {position}"))),
            Proven::NotSealed => Err(coded(
                ErrorCode::Unavailable,
                format!("the event at position {position} is not sealed yet; ask again shortly"),
            )
            .extend_with(|_, e| e.set("reason", "NOT_SEALED"))),
            Proven::Credentials => Err(bad_input(format!(
                "position {position} holds a user's credentials event, which is never shown (ADR 0023); `deedlog audit verify` checks its seal"
            ))),
        }
    }

    /// Stored events in log order, a page at a time (`first` 1–100).
    /// Credential material is never shown: password hashes and refresh-token
    /// ids in `credentials` events read `"[redacted]"` (see `AuditEvent.payload`).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<AuditEvent>> {
        let page = page(first, after, last, before)?;
        let viewer = allowed(ctx, Role::may_read_audit, READ)?;
        let f = filter.unwrap_or_default();
        let filter = rm::AuditFilter {
            record: f.record,
            actor: f.user.map(|u| format!("user:{u}")),
            event_type: f.event_type,
            from: f.from,
            to: f.to,
        };
        let mut scope = scope(ctx, viewer).await?;
        let mut rows = rm::events(scope.conn(), &filter, &page)
            .await
            .map_err(from_read)?;
        // Finished before opening: the key service takes a connection of the same pool.
        scope.finish().await.map_err(from_read)?;
        let tenant = viewer.caller.tenant.as_uuid();
        rm::open(
            rows.edges.iter_mut().map(|e| &mut e.node),
            tenant,
            ctx.data::<deedlog_privacy::Keyring>()?,
        )
        .await
        .map_err(from_read)?;
        Ok(connection(rows, Count::Audit(filter), |record| {
            AuditEvent { record }
        }))
    }

    /// A record's state as of `at` (default: now), rebuilt from the log.
    /// NOT_FOUND when the tenant had no such record then. A user's
    /// credentials are no such record: their state is never shown.
    async fn as_of(
        &self,
        ctx: &Context<'_>,
        kind: AuditedRecord,
        id: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<RecordState> {
        let viewer = allowed(ctx, Role::may_read_audit, READ)?;
        let services = ctx.data::<Services>()?.clone();
        let body = pb::AsOfRequest {
            record_id: id.to_string(),
            at_unix_micros: at.map(|a| a.timestamp_micros()),
        };
        let r = request(Some(viewer), ctx.data_opt::<TraceParent>(), body);
        let state = match kind {
            AuditedRecord::Property => services.properties.clone().get_as_of(r).await,
            AuditedRecord::Deal => services.deals.clone().get_as_of(r).await,
            AuditedRecord::Contact => services.communications.clone().get_as_of(r).await,
            AuditedRecord::Tenant => services.tenancy.clone().get_as_of(r).await,
        }
        .map_err(from_status)?
        .into_inner();
        let json = serde_json::from_str(&state.state_json)
            .map_err(|e| crate::error::internal("read a record state", &e))?;
        Ok(RecordState {
            record_id: state.record_id,
            record_type: state.record_type,
            version: int64("version", state.version)?,
            position: int64("log position", state.position)?,
            at: DateTime::from_timestamp_micros(state.at_unix_micros),
            recorded_at: DateTime::from_timestamp_micros(state.recorded_at_unix_micros),
            state: Json(json),
        })
    }

    /// Reconciliation runs, newest first (1–100), of one projection or all.
    async fn reconciliation_runs(
        &self,
        ctx: &Context<'_>,
        projection: Option<String>,
        #[graphql(default = 20)] limit: i32,
    ) -> Result<Vec<ReconciliationRunRow>> {
        let viewer = allowed(ctx, Role::may_read_audit, READ)?;
        if limit < 1 {
            return Err(bad_input("`limit` must be 1 to 100"));
        }
        let mut scope = scope(ctx, viewer).await?;
        rm::reconciliation_runs(scope.conn(), projection.as_deref(), limit.into())
            .await
            .map_err(from_read)
    }
}
