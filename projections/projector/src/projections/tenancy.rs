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

use super::credential_times::{decode_times, CredentialTimes};
use super::decode::{big, decode, int, name_of};
use crate::projection::{ApplyError, Projection, Table};
use crate::rows;
use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::stream_type::{CREDENTIALS, TENANT};
use deedlog_kernel::{Module, Role, UserId};
use deedlog_read_model::tenancy::{ModuleRow, RoleChangeRow, TenantRow, UserRow};
use deedlog_read_model::Int64;
use deedlog_tenancy_domain::credentials::FAILURE_WINDOW;
use deedlog_tenancy_domain::settings::CommunicationSettings;
use deedlog_tenancy_domain::tenant::{self, NewUser};
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Tenancy;

const TABLES: &[Table] = &[
    Table {
        name: "tenants",
        key: &["tenant_id"],
    },
    Table {
        name: "modules",
        key: &["tenant_id", "module"],
    },
    Table {
        name: "users",
        key: &["user_id"],
    },
    Table {
        name: "role_changes",
        key: &["user_id", "position"],
    },
];

/// A batch's tenancy events, decoded, in position order.
enum Decoded<'a> {
    Tenant(&'a RecordedEvent, tenant::Event),
    Credentials(&'a RecordedEvent, CredentialTimes),
}

#[async_trait]
impl Projection for Tenancy {
    fn name(&self) -> &'static str {
        "tenancy"
    }

    fn ddl(&self) -> &'static str {
        include_str!("../../../../migrations/projections/tenancy.sql")
    }

    fn tables(&self) -> &'static [Table] {
        TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let decoded = decode_batch(events)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let touched = Touched::of(&decoded);
        let mut state = State {
            tenants: rows::load::<TenantRow>(conn, "tenants", "tenant_id", &touched.tenants)
                .await?
                .into_iter()
                .map(|row| (row.tenant_id, row))
                .collect(),
            modules: rows::load::<ModuleRow>(conn, "modules", "tenant_id", &touched.modules)
                .await?
                .into_iter()
                .map(|row| ((row.tenant_id, row.module.clone()), row))
                .collect(),
            users: rows::load::<UserRow>(conn, "users", "user_id", &touched.users)
                .await?
                .into_iter()
                .map(|row| (row.user_id, row))
                .collect(),
            role_changes: Vec::new(),
        };
        for event in &decoded {
            match event {
                Decoded::Tenant(recorded, event) => state.tenant_event(recorded, event)?,
                Decoded::Credentials(recorded, event) => {
                    state.credentials_event(recorded, event)?
                }
            }
        }
        let tenants: Vec<TenantRow> = touched
            .tenants
            .iter()
            .filter_map(|id| state.tenants.remove(id))
            .collect();
        rows::replace(conn, "tenants", "tenant_id", &touched.tenants, &tenants).await?;
        let modules: Vec<ModuleRow> = state.modules.into_values().collect();
        rows::replace(conn, "modules", "tenant_id", &touched.modules, &modules).await?;
        let users: Vec<UserRow> = touched
            .users
            .iter()
            .filter_map(|id| state.users.remove(id))
            .collect();
        rows::replace(conn, "users", "user_id", &touched.users, &users).await?;
        rows::insert(conn, "role_changes", &state.role_changes).await?;
        Ok(())
    }
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
        | tenant::Event::UserDeactivated { user } => Some(user.as_uuid()),
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

impl State {
    fn tenant_event(
        &mut self,
        recorded: &RecordedEvent,
        event: &tenant::Event,
    ) -> Result<(), ApplyError> {
        let id = recorded.stream_id.as_uuid();
        let position = big(recorded.position);
        let at = recorded.occurred_at;
        if id != recorded.tenant_id.as_uuid() {
            return Err(ApplyError::event(
                recorded,
                "a tenant stream's id must be its tenant's id",
            ));
        }
        if let tenant::Event::TenantRegistered {
            name,
            slug,
            modules,
            first_admin,
        } = event
        {
            if let Some(row) = self.tenants.get(&id) {
                if row.last_position >= position {
                    return Ok(()); // applied before
                }
                return Err(ApplyError::event(recorded, "the tenant already has a row"));
            }
            let settings = CommunicationSettings::default();
            let mut row = TenantRow {
                tenant_id: id,
                name: name.clone(),
                slug: slug.clone(),
                status: "active".into(),
                suspended_at: None,
                time_zone: settings.time_zone,
                cadence_limit: int("cadence_limit", settings.cadence_limit)
                    .map_err(|e| ApplyError::event(recorded, e))?,
                cadence_window_days: int("cadence_window_days", settings.cadence_window_days)
                    .map_err(|e| ApplyError::event(recorded, e))?,
                version: Int64(0),
                last_position: Int64(0),
                created_at: at,
                updated_at: at,
            };
            stamp_tenant(&mut row, recorded);
            self.tenants.insert(id, row);
            for module in Module::ALL {
                self.set_module(recorded, module, modules.contains(&module));
            }
            let user = self.record_user(recorded, first_admin, Role::Admin)?;
            user.status = Some("active".into());
            user.activated_at = Some(at);
            return Ok(());
        }
        let applied = self.tenants.get(&id).map(|row| row.last_position);
        match applied {
            None => {
                return Err(ApplyError::event(
                    recorded,
                    "no row for this tenant (its registration was not applied)",
                ))
            }
            // Applied before (a replayed dead letter that had gone through).
            Some(last) if last >= position => return Ok(()),
            Some(_) => {}
        }
        match event {
            tenant::Event::TenantRegistered { .. } => {}
            tenant::Event::TenantRenamed { .. }
            | tenant::Event::TenantSuspended {}
            | tenant::Event::TenantReactivated {}
            | tenant::Event::CommunicationSettingsChanged { .. } => {
                if let Some(row) = self.tenants.get_mut(&id) {
                    set_tenant(row, event, at).map_err(|e| ApplyError::event(recorded, e))?;
                }
            }
            tenant::Event::ModuleEnabled { module } => self.set_module(recorded, *module, true),
            tenant::Event::ModuleDisabled { module } => self.set_module(recorded, *module, false),
            tenant::Event::UserInvited { user, role } => {
                let row = self.record_user(recorded, user, *role)?;
                row.status = Some("invited".into());
                row.invited_at = Some(at);
                row.invited_by = Some(recorded.actor.clone());
            }
            tenant::Event::UserActivated { user } => {
                let row = self.member(recorded, *user)?;
                row.status = Some("active".into());
                row.activated_at = Some(at);
            }
            tenant::Event::UserDeactivated { user } => {
                let row = self.member(recorded, *user)?;
                row.status = Some("deactivated".into());
                row.deactivated_at = Some(at);
                row.deactivated_by = Some(recorded.actor.clone());
            }
            tenant::Event::UserRoleChanged { user, from, to } => {
                let row = self.member(recorded, *user)?;
                row.role = Some(name_of(to));
                self.role_changes.push(RoleChangeRow {
                    tenant_id: recorded.tenant_id.as_uuid(),
                    user_id: user.as_uuid(),
                    position,
                    changed_at: at,
                    changed_by: recorded.actor.clone(),
                    from_role: Some(name_of(from)),
                    to_role: name_of(to),
                });
            }
        }
        if let Some(row) = self.tenants.get_mut(&id) {
            stamp_tenant(row, recorded);
        }
        Ok(())
    }

    fn set_module(&mut self, recorded: &RecordedEvent, module: Module, enabled: bool) {
        let tenant_id = recorded.stream_id.as_uuid();
        let module = name_of(&module);
        self.modules.insert(
            (tenant_id, module.clone()),
            ModuleRow {
                tenant_id,
                module,
                enabled,
                changed_at: recorded.occurred_at,
                changed_by: recorded.actor.clone(),
                last_position: big(recorded.position),
            },
        );
    }

    /// Records a user the tenant stream names for the first time (with
    /// the first role given), filling in a partial row if the credentials
    /// stream came first.
    fn record_user(
        &mut self,
        recorded: &RecordedEvent,
        user: &NewUser,
        role: Role,
    ) -> Result<&mut UserRow, ApplyError> {
        let id = user.id.as_uuid();
        let tenant_id = recorded.tenant_id.as_uuid();
        let row = self
            .users
            .entry(id)
            .or_insert_with(|| empty_user(id, tenant_id, recorded.occurred_at));
        if row.tenant_id != tenant_id {
            return Err(ApplyError::event(
                recorded,
                "the user id is already a user of another tenant",
            ));
        }
        if row.status.is_some() {
            return Err(ApplyError::event(recorded, "the user is already recorded"));
        }
        row.email = Some(user.email.clone());
        row.display_name = Some(user.display_name.clone());
        row.role = Some(name_of(&role));
        self.role_changes.push(RoleChangeRow {
            tenant_id,
            user_id: id,
            position: big(recorded.position),
            changed_at: recorded.occurred_at,
            changed_by: recorded.actor.clone(),
            from_role: None,
            to_role: name_of(&role),
        });
        stamp_user(row, recorded);
        Ok(row)
    }

    /// The row of a user the tenant stream recorded before.
    fn member(
        &mut self,
        recorded: &RecordedEvent,
        user: UserId,
    ) -> Result<&mut UserRow, ApplyError> {
        let row = self
            .users
            .get_mut(&user.as_uuid())
            .filter(|row| row.tenant_id == recorded.tenant_id.as_uuid() && row.status.is_some())
            .ok_or_else(|| {
                ApplyError::event(
                    recorded,
                    "no row for this user in this tenant (their invitation was not applied)",
                )
            })?;
        stamp_user(row, recorded);
        Ok(row)
    }

    fn credentials_event(
        &mut self,
        recorded: &RecordedEvent,
        event: &CredentialTimes,
    ) -> Result<(), ApplyError> {
        let id = recorded.stream_id.as_uuid();
        let tenant_id = recorded.tenant_id.as_uuid();
        let at = recorded.occurred_at;
        let row = self
            .users
            .entry(id)
            .or_insert_with(|| empty_user(id, tenant_id, at));
        if row.tenant_id != tenant_id {
            return Err(ApplyError::event(
                recorded,
                "the credentials' tenant is not the user's tenant",
            ));
        }
        if row.last_position >= big::<i64>(recorded.position) {
            return Ok(()); // applied before
        }
        match event {
            CredentialTimes::PasswordSet {} => row.password_set_at = Some(at),
            CredentialTimes::LoginSucceeded { at: login } => {
                row.last_login_at = Some(micros(*login));
                row.failed_login_times.clear();
            }
            CredentialTimes::LoginFailed { at: failed } => {
                // As the credentials aggregate counts them towards a lock-out.
                let failed = micros(*failed);
                row.failed_login_times
                    .retain(|t| *t > failed - FAILURE_WINDOW);
                row.failed_login_times.push(failed);
                row.last_failed_login_at = Some(failed);
            }
            CredentialTimes::LockedOut { until } => {
                row.locked_until = Some(micros(*until));
                row.lockouts += 1;
                row.failed_login_times.clear();
            }
            CredentialTimes::AllRefreshTokensRevoked {} => row.tokens_revoked_at = Some(at),
            CredentialTimes::TokenChanged {} => {}
        }
        row.failed_logins = int("failed_logins", row.failed_login_times.len())
            .map_err(|e| ApplyError::event(recorded, e))?;
        stamp_user(row, recorded);
        Ok(())
    }
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

/// The effect of an event on the tenant's own row.
fn set_tenant(row: &mut TenantRow, event: &tenant::Event, at: DateTime<Utc>) -> Result<(), String> {
    match event {
        tenant::Event::TenantRenamed { name } => row.name = name.clone(),
        tenant::Event::TenantSuspended {} => {
            row.status = "suspended".into();
            row.suspended_at = Some(at);
        }
        tenant::Event::TenantReactivated {} => {
            row.status = "active".into();
            row.suspended_at = None;
        }
        tenant::Event::CommunicationSettingsChanged { settings } => {
            row.time_zone = settings.time_zone.clone();
            row.cadence_limit = int("cadence_limit", settings.cadence_limit)?;
            row.cadence_window_days = int("cadence_window_days", settings.cadence_window_days)?;
        }
        _ => {}
    }
    Ok(())
}

fn stamp_tenant(row: &mut TenantRow, recorded: &RecordedEvent) {
    row.version = big(recorded.version);
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
}

fn stamp_user(row: &mut UserRow, recorded: &RecordedEvent) {
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
}

/// An instant from a payload (up to nanoseconds) cut to the microseconds
/// `timestamptz` keeps, so a value folded in memory equals one read back.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
