//! Who may use a tenant now. An access token proves only who the caller is
//! (user and tenant); what they may do comes from the tenant's roster as it
//! is now: the member's current role and status and whether the tenant is
//! suspended. Every service and the gateway decide it with
//! [`current_role`], so a deactivation, a change of role or a suspension
//! takes effect everywhere at once (within the directory's cache time),
//! whatever the token still says.

use crate::role::Role;
use std::fmt;

/// Where a member of a tenant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    /// Invited, has not accepted yet.
    Invited,
    Active,
    Deactivated,
}

/// A member of a tenant as the roster has them now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    pub status: MemberStatus,
}

/// The reason code of every refusal because the tenant is suspended.
pub const TENANT_SUSPENDED: &str = "TENANT_SUSPENDED";

/// Why a verified token may not be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The token names a user the tenant does not have.
    NotAMember,
    /// The user is invited but not yet active, or deactivated.
    NotActive(MemberStatus),
    /// The tenant is suspended and the user's role is not one that may
    /// still use it (admins and auditors).
    TenantSuspended(Role),
}

impl Denied {
    /// Whether the token no longer authenticates anyone (the caller must
    /// sign in again, and cannot), as opposed to a refusal of what it may do.
    pub fn is_unauthenticated(self) -> bool {
        matches!(self, Denied::NotAMember | Denied::NotActive(_))
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotAMember => {
                f.write_str("the token's user is not a user of this tenant; sign in again")
            }
            Denied::NotActive(MemberStatus::Deactivated) => f.write_str(
                "the token's user has been deactivated; the token is no longer accepted",
            ),
            Denied::NotActive(_) => f.write_str(
                "the token's user is not an active user of this tenant; the token is not accepted",
            ),
            Denied::TenantSuspended(_) => f.write_str(
                "the tenant is suspended; only its admins and auditors may use it until it is \
                 reactivated",
            ),
        }
    }
}

/// The role the caller has now: an active member's current role, when the
/// tenant is not suspended or the role may still use a suspended tenant
/// (see [`Role::may_use_suspended_tenant`]); otherwise why not.
pub fn current_role(member: Option<Membership>, tenant_suspended: bool) -> Result<Role, Denied> {
    let member = member.ok_or(Denied::NotAMember)?;
    if member.status != MemberStatus::Active {
        return Err(Denied::NotActive(member.status));
    }
    if tenant_suspended && !member.role.may_use_suspended_tenant() {
        return Err(Denied::TenantSuspended(member.role));
    }
    Ok(member.role)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role, status: MemberStatus) -> Option<Membership> {
        Some(Membership { role, status })
    }

    #[test]
    fn an_active_member_has_their_current_role() {
        for role in Role::ALL {
            assert_eq!(
                current_role(member(role, MemberStatus::Active), false),
                Ok(role)
            );
        }
    }

    #[test]
    fn unknown_invited_and_deactivated_users_are_unauthenticated() {
        for (member, denied) in [
            (None, Denied::NotAMember),
            (
                member(Role::Admin, MemberStatus::Deactivated),
                Denied::NotActive(MemberStatus::Deactivated),
            ),
            (
                member(Role::Agent, MemberStatus::Invited),
                Denied::NotActive(MemberStatus::Invited),
            ),
        ] {
            for suspended in [false, true] {
                let refused = current_role(member, suspended).expect_err("refused");
                assert_eq!(refused, denied);
                assert!(refused.is_unauthenticated());
            }
        }
    }

    #[test]
    fn a_suspended_tenant_is_used_by_its_admins_and_auditors_only() {
        for role in Role::ALL {
            let now = current_role(member(role, MemberStatus::Active), true);
            if matches!(role, Role::Admin | Role::Auditor) {
                assert_eq!(now, Ok(role));
            } else {
                assert_eq!(now, Err(Denied::TenantSuspended(role)));
                assert!(!Denied::TenantSuspended(role).is_unauthenticated());
                assert!(Denied::TenantSuspended(role)
                    .to_string()
                    .contains("suspended"));
            }
        }
    }
}
