//! The tenant aggregate: name, slug, status, modules and the roster of users
//! with their roles, so that "email unique within the tenant" and "at least
//! one active admin" are checked against the whole roster.

mod decide;
mod evolve;
mod validate;

pub use decide::decide;
pub use evolve::evolve;
pub use validate::{check_slug, normalise_email};

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
    /// Forgets a deactivated user (right to erasure): their email and name
    /// read as erased from now on. Their role and status history stays.
    Forget {
        user: UserId,
    },
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
    /// The user was forgotten (right to erasure): appending this destroys
    /// the user's data key, so their email and display name read as erased
    /// everywhere (ADR 0035). The subject is `user`.
    UserForgotten {
        user: UserId,
    },
    CommunicationSettingsChanged {
        settings: CommunicationSettings,
    },
}

deedlog_kernel::event_types!(Event {
    TenantRegistered,
    TenantRenamed,
    TenantSuspended,
    TenantReactivated,
    ModuleEnabled,
    ModuleDisabled,
    UserInvited,
    UserActivated,
    UserRoleChanged,
    UserDeactivated,
    UserForgotten,
    CommunicationSettingsChanged,
});

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
    /// Whether the user was forgotten: their email and display name read
    /// [`ERASED`](deedlog_kernel::privacy::ERASED); they stay deactivated.
    pub forgotten: bool,
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

    /// Whether a user who is not forgotten has `email` (a forgotten user's
    /// erased email blocks nothing).
    fn email_taken(&self, email: &str) -> bool {
        self.members
            .values()
            .any(|m| !m.forgotten && m.email == email)
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
    #[error("user {0} is not deactivated; deactivate them before forgetting them")]
    NotDeactivated(UserId),
    #[error("user {0} was forgotten (right to erasure); they take no more commands")]
    Forgotten(UserId),
    #[error("user {user} is {status:?}; {action} is not possible")]
    WrongUserStatus {
        user: UserId,
        status: UserStatus,
        action: &'static str,
    },
}

deedlog_kernel::decider! {
    /// The tenant decider.
    pub struct Tenants: TENANT, State, Action => Event, Error;
    decide = decide, evolve = evolve
}
