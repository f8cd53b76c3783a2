//! The tenancy read model: tenants with their communication settings, their
//! modules, their users with roles and sign-in state, and the history of
//! roles given (schema in `migrations/projections/tenancy.sql`).
//!
//! Two stream types feed it: `tenant` (stream id = tenant id: the tenant,
//! its modules and its user roster) and `credentials` (stream id = user id,
//! tenant id = the user's tenant: password set, logins, lock-outs, token
//! revocation). Both write the same `users` row, keyed by the user id.
//! `tenant_slug` streams add nothing: the slug is in `TenantRegistered`.
//!
//! Secrets never reach a row: `PasswordSet` contributes only its time, and
//! refresh tokens (ids included) are not projected; only the time all of a
//! user's tokens were revoked is.
//!
//! A credentials event for a user the tenant stream has not recorded (the
//! services write the roster first, so only a request that failed
//! part-way leaves one) creates a partial row: the sign-in columns are
//! filled, email, display name, role and status stay null until the tenant
//! stream records the user. Each column has one source stream and the
//! events are folded in log order, so the row is the same whatever the
//! batches.

mod credentials_stream;
mod tenant_stream;

use super::credential_times::{decode_times, CredentialTimes};
use super::decode::{big, decode};
use crate::projection::ApplyError;
use crate::rows::{self, keyed};
use chrono::{DateTime, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::stream_type::{CREDENTIALS, TENANT};
use deedlog_read_model::tenancy::{ModuleRow, RoleChangeRow, TenantRow, UserRow};
use deedlog_read_model::Int64;
use deedlog_tenancy_domain::tenant::{self};
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A batch's tenancy events, decoded, in position order.
enum Decoded<'a> {
    Tenant(&'a RecordedEvent, tenant::Event),
    Credentials(&'a RecordedEvent, CredentialTimes),
}

projection!(Tenancy, "tenancy", apply, opens[TENANT]);

async fn apply(conn: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let decoded = decode_batch(events)?;
    if decoded.is_empty() {
        return Ok(());
    }
    let touched = Touched::of(&decoded);
    let tenants = rows::load(conn, "tenants", "tenant_id", &touched.tenants).await?;
    let modules = rows::load(conn, "modules", "tenant_id", &touched.modules).await?;
    let users = rows::load(conn, "users", "user_id", &touched.users).await?;
    let mut state = State {
        tenants: keyed(tenants, |row: &TenantRow| row.tenant_id),
        modules: keyed(modules, |row: &ModuleRow| {
            (row.tenant_id, row.module.clone())
        }),
        users: keyed(users, |row: &UserRow| row.user_id),
        role_changes: Vec::new(),
    };
    for event in &decoded {
        match event {
            Decoded::Tenant(recorded, event) => state.tenant_event(recorded, event)?,
            Decoded::Credentials(recorded, event) => state.credentials_event(recorded, event)?,
        }
    }
    let tenants = take(&mut state.tenants, &touched.tenants);
    rows::replace(conn, "tenants", "tenant_id", &touched.tenants, &tenants).await?;
    let modules: Vec<ModuleRow> = state.modules.into_values().collect();
    rows::replace(conn, "modules", "tenant_id", &touched.modules, &modules).await?;
    let users = take(&mut state.users, &touched.users);
    rows::replace(conn, "users", "user_id", &touched.users, &users).await?;
    rows::insert(conn, "role_changes", &state.role_changes).await?;
    Ok(())
}

/// Picks the tenant and credentials events out of `events` and decodes them.
fn decode_batch(events: &[RecordedEvent]) -> Result<Vec<Decoded<'_>>, ApplyError> {
    let mut decoded = Vec::new();
    for event in events {
        match event.stream_type.as_str() {
            TENANT => decoded.push(Decoded::Tenant(event, decode(event)?)),
            CREDENTIALS => match decode_times(event)? {
                // Token ids are not projected, and these change nothing else.
                CredentialTimes::TokenChanged {} => {}
                other => decoded.push(Decoded::Credentials(event, other)),
            },
            _ => {}
        }
    }
    Ok(decoded)
}

/// The keys of the rows a batch touches, each list without repeats.
#[derive(Default)]
struct Touched {
    tenants: Vec<Uuid>,
    /// Tenants whose module rows change.
    modules: Vec<Uuid>,
    users: Vec<Uuid>,
}

impl Touched {
    fn of(decoded: &[Decoded<'_>]) -> Self {
        fn add(list: &mut Vec<Uuid>, seen: &mut HashSet<(u8, Uuid)>, kind: u8, id: Uuid) {
            if seen.insert((kind, id)) {
                list.push(id);
            }
        }
        let mut touched = Touched::default();
        let mut seen = HashSet::new();
        for event in decoded {
            match event {
                Decoded::Tenant(recorded, event) => {
                    let tenant = recorded.stream_id.as_uuid();
                    add(&mut touched.tenants, &mut seen, 0, tenant);
                    if matches!(
                        event,
                        tenant::Event::TenantRegistered { .. }
                            | tenant::Event::ModuleEnabled { .. }
                            | tenant::Event::ModuleDisabled { .. }
                    ) {
                        add(&mut touched.modules, &mut seen, 1, tenant);
                    }
                    if let Some(user) = user_of(event) {
                        add(&mut touched.users, &mut seen, 2, user);
                    }
                }
                Decoded::Credentials(recorded, _) => {
                    add(
                        &mut touched.users,
                        &mut seen,
                        2,
                        recorded.stream_id.as_uuid(),
                    );
                }
            }
        }
        touched
    }
}

/// The user a tenant event is about, if any.
fn user_of(event: &tenant::Event) -> Option<Uuid> {
    match event {
        tenant::Event::TenantRegistered { first_admin, .. } => Some(first_admin.id.as_uuid()),
        tenant::Event::UserInvited { user, .. } => Some(user.id.as_uuid()),
        tenant::Event::UserActivated { user }
        | tenant::Event::UserRoleChanged { user, .. }
        | tenant::Event::UserDeactivated { user }
        | tenant::Event::UserForgotten { user } => Some(user.as_uuid()),
        _ => None,
    }
}

/// The rows a batch works on, folded in memory.
struct State {
    tenants: HashMap<Uuid, TenantRow>,
    modules: BTreeMap<(Uuid, String), ModuleRow>,
    users: HashMap<Uuid, UserRow>,
    role_changes: Vec<RoleChangeRow>,
}

fn empty_user(user_id: Uuid, tenant_id: Uuid, at: DateTime<Utc>) -> UserRow {
    UserRow {
        user_id,
        tenant_id,
        email: None,
        display_name: None,
        role: None,
        status: None,
        invited_at: None,
        invited_by: None,
        activated_at: None,
        deactivated_at: None,
        deactivated_by: None,
        password_set_at: None,
        last_login_at: None,
        failed_logins: 0,
        failed_login_times: Vec::new(),
        last_failed_login_at: None,
        lockouts: 0,
        locked_until: None,
        tokens_revoked_at: None,
        last_position: Int64(0),
        created_at: at,
        updated_at: at,
    }
}

fn stamp_user(row: &mut UserRow, recorded: &RecordedEvent) {
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
}

/// The rows of `ids` taken out of `rows`, in the order of `ids` (an id
/// without a row is left out).
fn take<R>(rows: &mut HashMap<Uuid, R>, ids: &[Uuid]) -> Vec<R> {
    ids.iter().filter_map(|id| rows.remove(id)).collect()
}
