//! The tenant aggregate: name, slug, status, modules and the roster of users
//! with their roles, so that "email unique within the tenant" and "at least
//! one active admin" are checked against the whole roster.

use crate::role::{Module, Role};
use crate::settings::CommunicationSettings;
use deedlog_kernel::UserId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Register {
        name: String,
        slug: String,
        first_admin: NewUser,
    },
    Rename(String),
    Suspend,
    Reactivate,
    EnableModule(Module),
    DisableModule(Module),
    /// `by` is the inviting user's role, which bounds the role given.
    Invite {
        user: NewUser,
        role: Role,
        by: Role,
    },
    /// The invited user accepted and set a password: once, while invited.
    Activate(UserId),
    ChangeRole {
        user: UserId,
        role: Role,
        by: Role,
    },
    Deactivate(UserId),
    SetCommunicationSettings {
        time_zone: String,
        cadence_limit: u32,
        cadence_window_days: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    TenantRegistered {
        name: String,
        slug: String,
        modules: BTreeSet<Module>,
        first_admin: NewUser,
    },
    TenantRenamed {
        name: String,
    },
    TenantSuspended {},
    TenantReactivated {},
    ModuleEnabled {
        module: Module,
    },
    ModuleDisabled {
        module: Module,
    },
    UserInvited {
        user: NewUser,
        role: Role,
    },
    UserActivated {
        user: UserId,
    },
    UserRoleChanged {
        user: UserId,
        from: Role,
        to: Role,
    },
    UserDeactivated {
        user: UserId,
    },
    CommunicationSettingsChanged {
        settings: CommunicationSettings,
    },
}

impl deedlog_kernel::DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::TenantRegistered { .. } => "TenantRegistered",
            Event::TenantRenamed { .. } => "TenantRenamed",
            Event::TenantSuspended {} => "TenantSuspended",
            Event::TenantReactivated {} => "TenantReactivated",
            Event::ModuleEnabled { .. } => "ModuleEnabled",
            Event::ModuleDisabled { .. } => "ModuleDisabled",
            Event::UserInvited { .. } => "UserInvited",
            Event::UserActivated { .. } => "UserActivated",
            Event::UserRoleChanged { .. } => "UserRoleChanged",
            Event::UserDeactivated { .. } => "UserDeactivated",
            Event::CommunicationSettingsChanged { .. } => "CommunicationSettingsChanged",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Invited,
    Active,
    Deactivated,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    pub name: String,
    pub slug: String,
    pub suspended: bool,
    pub modules: BTreeSet<Module>,
    pub members: BTreeMap<UserId, Member>,
    /// Defaults until the first change (older tenants have no settings event).
    pub settings: CommunicationSettings,
}

impl Tenant {
    fn active_admins(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.role == Role::Admin && m.status == UserStatus::Active)
            .count()
    }

    fn email_taken(&self, email: &str) -> bool {
        self.members.values().any(|m| m.email == email)
    }
}

/// The state of one tenant with its roster; `None` before it is registered.
/// Serialised (as the tenant or `null`) for auditors' state-as-of reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State(pub Option<Tenant>);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the tenant already exists")]
    AlreadyExists,
    #[error("the tenant does not exist")]
    NotFound,
    #[error("the tenant is suspended; it accepts no commands until reactivated")]
    Suspended,
    #[error("the tenant is not suspended")]
    NotSuspended,
    #[error("user {0} is not a member of this tenant")]
    UnknownUser(UserId),
    #[error("{email} is already a user of this tenant")]
    EmailTaken { email: String },
    #[error("{} may not give the {role} role", by.with_article())]
    MayNotGrant { by: Role, role: Role },
    #[error("the tenant must keep at least one active admin")]
    LastActiveAdmin,
    #[error("this invitation was already accepted; sign in with your password, or ask an admin for a new invitation")]
    InvitationUsed,
    #[error("user {user} is {status:?}; {action} is not possible")]
    WrongUserStatus {
        user: UserId,
        status: UserStatus,
        action: &'static str,
    },
}

fn invalid(field: &'static str, reason: &str) -> Error {
    Error::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

/// Lower-cases and checks an email address (one `@`, something on each side, a dot in the domain).
pub fn normalise_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(invalid(
            "email",
            "must be an email address such as anna@example.com",
        ))
    }
}

fn check_user(user: &NewUser) -> Result<NewUser, Error> {
    let display_name = user.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(invalid("display_name", "must be 1 to 100 characters"));
    }
    Ok(NewUser {
        id: user.id,
        email: normalise_email(&user.email)?,
        display_name: display_name.to_owned(),
    })
}

fn check_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// Slugs are 3–40 lowercase letters, digits and single hyphens, e.g. `berg-immobilien`.
/// Uniqueness across tenants is checked by the service before registering.
pub fn check_slug(slug: &str) -> Result<(), Error> {
    let valid = (3..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "slug",
            "must be 3 to 40 lowercase letters, digits and single hyphens",
        ))
    }
}

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
                },
            );
        }
    }
    State(Some(tenant))
}

/// The tenant decider.
#[derive(Debug)]
pub struct Tenants;

impl deedlog_kernel::Decider for Tenants {
    const STREAM_TYPE: &'static str = deedlog_kernel::stream_type::TENANT;
    type State = State;
    type Command = Action;
    type Event = Event;
    type Error = Error;

    fn decide(state: &State, command: &Action) -> Result<Vec<Event>, Error> {
        decide(state, command)
    }

    fn evolve(state: State, event: &Event) -> State {
        evolve(state, event)
    }
}
