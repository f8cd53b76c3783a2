//! Proto messages ↔ tenancy domain values: requests into the domain, naming
//! the field they reject, and domain values into replies. A role's two
//! directions are shared by every service (`deedlog_service::directory`),
//! since each reads the roster from tenancy's replies.

use deedlog_kernel::{Module, Role};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_service::directory::role_from_proto;
use deedlog_service::Error;
use deedlog_tenancy_domain::tenant::UserStatus;

deedlog_service::proto_enum! {
    Module <=> Module { Properties, Deals, Communications, Analytics }
    from: module,
    field: "module",
    missing: "is required: properties, deals, communications or analytics";
    to: module_to_proto
}

/// The role a request gives a user.
pub fn role(role: pb::Role) -> Result<Role, Error> {
    role_from_proto(role).ok_or_else(|| {
        Error::invalid(
            "role",
            "is required: admin, manager, agent, viewer or auditor",
        )
    })
}

/// The proto form of a user's status.
pub fn status_to_proto(status: UserStatus) -> pb::UserStatus {
    match status {
        UserStatus::Invited => pb::UserStatus::Invited,
        UserStatus::Active => pb::UserStatus::Active,
        UserStatus::Deactivated => pb::UserStatus::Deactivated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_service::directory::role_to_proto;

    #[test]
    fn every_module_and_role_round_trips() {
        for m in Module::ALL {
            assert_eq!(module(module_to_proto(m)), Ok(m));
        }
        for r in Role::ALL {
            assert_eq!(role(role_to_proto(r)), Ok(r));
        }
    }

    #[test]
    fn unspecified_values_name_their_field() {
        assert!(matches!(
            module(pb::Module::Unspecified),
            Err(Error::InvalidArgument { field, .. }) if field == "module"
        ));
        assert!(matches!(
            role(pb::Role::Unspecified),
            Err(Error::InvalidArgument { field, .. }) if field == "role"
        ));
    }
}
