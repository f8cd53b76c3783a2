//! Roles, modules and what a role may grant: tenancy decides who has which,
//! every service authorises by them.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Viewer,
    Auditor,
}

impl Role {
    /// Whether a user with this role may give `role` to someone: admins any
    /// role, managers agents and viewers, nobody else anything.
    pub fn may_grant(self, role: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Manager => matches!(role, Role::Agent | Role::Viewer),
            Role::Agent | Role::Viewer | Role::Auditor => false,
        }
    }

    /// The role's name after its indefinite article, for messages: "an admin".
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Admin => "an admin",
            Role::Manager => "a manager",
            Role::Agent => "an agent",
            Role::Viewer => "a viewer",
            Role::Auditor => "an auditor",
        }
    }
}

crate::stored_names!(Role {
    Admin => "admin",
    Manager => "manager",
    Agent => "agent",
    Viewer => "viewer",
    Auditor => "auditor",
});

/// A feature module a tenant can switch on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    Properties,
    Deals,
    Communications,
    Analytics,
}

impl Module {
    pub const ALL: [Module; 4] = [
        Module::Properties,
        Module::Deals,
        Module::Communications,
        Module::Analytics,
    ];
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Module::Properties => "properties",
            Module::Deals => "deals",
            Module::Communications => "communications",
            Module::Analytics => "analytics",
        })
    }
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Agent,
        Role::Viewer,
        Role::Auditor,
    ];

    /// Whether the role may change properties, deals and communications.
    pub fn may_write_records(self) -> bool {
        matches!(self, Role::Admin | Role::Manager | Role::Agent)
    }

    /// Whether the role acts on every record of the tenant, not only its own.
    pub fn manages_all_records(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }

    /// Whether the role may read the tenant's properties, deals, contacts,
    /// conversations and timelines (auditors read history and analytics instead).
    pub fn may_read_records(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Manager | Role::Agent | Role::Viewer
        )
    }

    /// Whether the role may read the analytics read models.
    pub fn may_read_analytics(self) -> bool {
        matches!(self, Role::Admin | Role::Manager | Role::Auditor)
    }

    /// Whether the role may read the audit history, states as of an instant
    /// and reconciliation runs.
    pub fn may_read_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether the role may see the tenant's users.
    pub fn may_read_users(self) -> bool {
        matches!(self, Role::Admin | Role::Manager | Role::Auditor)
    }

    /// Whether the role may still sign in to and use a suspended tenant (to
    /// read it and reactivate it): admins and auditors.
    pub fn may_use_suspended_tenant(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether a user with this role can own records (be an assigned agent).
    pub fn may_own_records(self) -> bool {
        matches!(self, Role::Admin | Role::Manager | Role::Agent)
    }
}

/// A role name that is not one of deedlog's roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; roles are admin, manager, agent, viewer, auditor")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names_and_nothing_else() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let error = "owner".parse::<Role>().expect_err("not a role");
        assert!(error.to_string().contains("admin, manager"), "{error}");
    }
}
