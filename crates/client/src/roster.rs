//! A tenant's roster as tenancy's `GetTenant` reply names it, read the same
//! way by every caller that checks a user's current role (the services'
//! directory and the gateway).

use deedlog_kernel::{MemberStatus, Membership, Role, UserId};
use deedlog_proto::tenancy::v1 as pb;

/// The domain role for a proto role; none for `ROLE_UNSPECIFIED`.
pub fn role(role: pb::Role) -> Option<Role> {
    match role {
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Manager => Some(Role::Manager),
        pb::Role::Agent => Some(Role::Agent),
        pb::Role::Viewer => Some(Role::Viewer),
        pb::Role::Auditor => Some(Role::Auditor),
        pb::Role::Unspecified => None,
    }
}

/// One roster entry. One tenancy would not name (an unreadable id, an
/// unspecified role or status) is left out, so its user is refused as
/// unknown.
pub fn membership(member: &pb::Member) -> Option<(UserId, Membership)> {
    let user = member.user_id.parse().ok()?;
    let role = role(member.role())?;
    let status = match member.status() {
        pb::UserStatus::Active => MemberStatus::Active,
        pb::UserStatus::Invited => MemberStatus::Invited,
        pb::UserStatus::Deactivated => MemberStatus::Deactivated,
        pb::UserStatus::Unspecified => return None,
    };
    Some((user, Membership { role, status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_tenancy_would_not_name_is_left_out() {
        let member = |user_id: &str, role: pb::Role, status: pb::UserStatus| pb::Member {
            user_id: user_id.to_owned(),
            role: role.into(),
            status: status.into(),
        };
        let id = "0190b6c4-3a5e-7cc2-9a40-6d4b5c1e2f30";
        let (user, entry) = membership(&member(id, pb::Role::Agent, pb::UserStatus::Active))
            .expect("a named member");
        assert_eq!(user.to_string(), id);
        assert_eq!(
            entry,
            Membership {
                role: Role::Agent,
                status: MemberStatus::Active
            }
        );
        for unnamed in [
            member("not-a-uuid", pb::Role::Agent, pb::UserStatus::Active),
            member(id, pb::Role::Unspecified, pb::UserStatus::Active),
            member(id, pb::Role::Agent, pb::UserStatus::Unspecified),
        ] {
            assert_eq!(membership(&unnamed), None, "{unnamed:?}");
        }
    }
}
