//! The tenant's rules: what a command does to the tenant and its roster.

use super::validate::{check_name, check_slug, check_user, invalid};
use super::{Action, Error, Event, State, UserStatus};
use crate::role::{Module, Role};
use crate::settings::CommunicationSettings;
use deedlog_kernel::UserId;

pub fn decide(state: &State, action: &Action) -> Result<Vec<Event>, Error> {
    let tenant = match (&state.0, action) {
        (Some(_), Action::Register { .. }) => return Err(Error::AlreadyExists),
        (
            None,
            Action::Register {
                name,
                slug,
                first_admin,
            },
        ) => {
            check_slug(slug)?;
            return Ok(vec![Event::TenantRegistered {
                name: check_name(name)?,
                slug: slug.clone(),
                modules: Module::ALL.into_iter().collect(),
                first_admin: check_user(first_admin)?,
            }]);
        }
        (None, _) => return Err(Error::NotFound),
        (Some(tenant), _) => tenant,
    };
    match action {
        Action::Reactivate if tenant.suspended => return Ok(vec![Event::TenantReactivated {}]),
        Action::Reactivate => return Err(Error::NotSuspended),
        _ if tenant.suspended => return Err(Error::Suspended),
        _ => {}
    }
    let member = |user: &UserId| tenant.members.get(user).ok_or(Error::UnknownUser(*user));
    let unless = |unchanged: bool, event: Event| if unchanged { vec![] } else { vec![event] };
    Ok(match action {
        Action::Register { .. } => return Err(Error::AlreadyExists),
        Action::Reactivate => return Err(Error::NotSuspended),
        Action::Rename(name) => {
            let name = check_name(name)?;
            unless(name == tenant.name, Event::TenantRenamed { name })
        }
        Action::Suspend => vec![Event::TenantSuspended {}],
        Action::EnableModule(module) => unless(
            tenant.modules.contains(module),
            Event::ModuleEnabled { module: *module },
        ),
        Action::DisableModule(module) => unless(
            !tenant.modules.contains(module),
            Event::ModuleDisabled { module: *module },
        ),
        Action::Invite { user, role, by } => {
            if !by.may_grant(*role) {
                return Err(Error::MayNotGrant {
                    by: *by,
                    role: *role,
                });
            }
            let user = check_user(user)?;
            if tenant.email_taken(&user.email) {
                return Err(Error::EmailTaken { email: user.email });
            }
            if tenant.members.contains_key(&user.id) {
                return Err(invalid("user.id", "is already a member of this tenant"));
            }
            vec![Event::UserInvited { user, role: *role }]
        }
        Action::Activate(user) => match member(user)?.status {
            UserStatus::Invited => vec![Event::UserActivated { user: *user }],
            // An invitation is used once: accepting it again must not set the password again.
            UserStatus::Active => return Err(Error::InvitationUsed),
            status => {
                return Err(Error::WrongUserStatus {
                    user: *user,
                    status,
                    action: "activation",
                })
            }
        },
        Action::ChangeRole { user, role, by } => {
            let current = member(user)?;
            if current.forgotten {
                return Err(Error::Forgotten(*user));
            }
            if !by.may_grant(*role) || !by.may_grant(current.role) {
                return Err(Error::MayNotGrant {
                    by: *by,
                    role: if by.may_grant(*role) {
                        current.role
                    } else {
                        *role
                    },
                });
            }
            let demotes_admin = current.role == Role::Admin
                && *role != Role::Admin
                && current.status == UserStatus::Active;
            if demotes_admin && tenant.active_admins() == 1 {
                return Err(Error::LastActiveAdmin);
            }
            unless(
                current.role == *role,
                Event::UserRoleChanged {
                    user: *user,
                    from: current.role,
                    to: *role,
                },
            )
        }
        Action::Deactivate(user) => {
            let current = member(user)?;
            if current.status == UserStatus::Deactivated {
                return Ok(vec![]);
            }
            if current.role == Role::Admin
                && current.status == UserStatus::Active
                && tenant.active_admins() == 1
            {
                return Err(Error::LastActiveAdmin);
            }
            vec![Event::UserDeactivated { user: *user }]
        }
        Action::Forget { user } => {
            let current = member(user)?;
            if current.forgotten {
                return Err(Error::Forgotten(*user));
            }
            if current.status != UserStatus::Deactivated {
                return Err(Error::NotDeactivated(*user));
            }
            vec![Event::UserForgotten { user: *user }]
        }
        Action::SetCommunicationSettings {
            time_zone,
            cadence_limit,
            cadence_window_days,
        } => {
            let settings = CommunicationSettings {
                time_zone: time_zone.trim().to_owned(),
                cadence_limit: *cadence_limit,
                cadence_window_days: *cadence_window_days,
            };
            settings
                .validate()
                .map_err(|(field, reason)| invalid(field, reason))?;
            unless(
                tenant.settings == settings,
                Event::CommunicationSettingsChanged { settings },
            )
        }
    })
}
