//! How each event changes the tenant and its roster.

use super::{Event, Member, State, Tenant, UserStatus};
use crate::role::Role;
use crate::settings::CommunicationSettings;
use deedlog_kernel::privacy::ERASED;
use deedlog_kernel::UserId;
use std::collections::BTreeMap;

pub fn evolve(state: State, event: &Event) -> State {
    let Some(mut tenant) = state.0 else {
        return match event {
            Event::TenantRegistered {
                name,
                slug,
                modules,
                first_admin,
            } => State(Some(Tenant {
                name: name.clone(),
                slug: slug.clone(),
                suspended: false,
                modules: modules.clone(),
                members: BTreeMap::from([(
                    first_admin.id,
                    Member {
                        email: first_admin.email.clone(),
                        display_name: first_admin.display_name.clone(),
                        role: Role::Admin,
                        status: UserStatus::Active,
                        forgotten: false,
                    },
                )]),
                settings: CommunicationSettings::default(),
            })),
            _ => State(None),
        };
    };
    let mut set_member = |user: &UserId, change: &dyn Fn(&mut Member)| {
        if let Some(member) = tenant.members.get_mut(user) {
            change(member);
        }
    };
    match event {
        Event::TenantRegistered { .. } => {}
        Event::UserActivated { user } => set_member(user, &|m| m.status = UserStatus::Active),
        Event::UserRoleChanged { user, to, .. } => set_member(user, &|m| m.role = *to),
        Event::UserDeactivated { user } => {
            set_member(user, &|m| m.status = UserStatus::Deactivated)
        }
        Event::UserForgotten { user } => set_member(user, &|m| {
            m.email = ERASED.to_owned();
            m.display_name = ERASED.to_owned();
            m.forgotten = true;
        }),
        Event::TenantRenamed { name } => tenant.name = name.clone(),
        Event::CommunicationSettingsChanged { settings } => tenant.settings = settings.clone(),
        Event::TenantSuspended {} => tenant.suspended = true,
        Event::TenantReactivated {} => tenant.suspended = false,
        Event::ModuleEnabled { module } => {
            tenant.modules.insert(*module);
        }
        Event::ModuleDisabled { module } => {
            tenant.modules.remove(module);
        }
        Event::UserInvited { user, role } => {
            tenant.members.insert(
                user.id,
                Member {
                    email: user.email.clone(),
                    display_name: user.display_name.clone(),
                    role: *role,
                    status: UserStatus::Invited,
                    forgotten: false,
                },
            );
        }
    }
    State(Some(tenant))
}
