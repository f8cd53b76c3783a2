//! Roles, modules and what a role may grant.

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

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
