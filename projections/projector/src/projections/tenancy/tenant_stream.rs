//! What the tenant stream does to the rows: the tenant, its modules, its
//! users' roster entries and the roles given.

use super::{empty_user, stamp_user, State};
use crate::projection::ApplyError;
use crate::projections::decode::{big, int, name_of};
use chrono::{DateTime, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::privacy::ERASED;
use deedlog_kernel::{Module, Role, UserId};
use deedlog_read_model::tenancy::{ModuleRow, RoleChangeRow, TenantRow, UserRow};
use deedlog_read_model::Int64;
use deedlog_tenancy_domain::settings::CommunicationSettings;
use deedlog_tenancy_domain::tenant::{self, NewUser};

impl State {
    /// Folds a tenant event into the tenant's rows.
    pub(super) fn tenant_event(
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
            tenant::Event::UserForgotten { user } => {
                // What the erased `TenantRegistered` or `UserInvited` would
                // have left (ADR 0035): a recorded email and name read
                // `[erased]`; role, status and times stay.
                let row = self.member(recorded, *user)?;
                let erased = |value: &Option<String>| value.as_ref().map(|_| ERASED.to_owned());
                row.email = erased(&row.email);
                row.display_name = erased(&row.display_name);
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
