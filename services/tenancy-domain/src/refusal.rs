//! How tenancy's refusals are reported: bad arguments name their field,
//! unknown records are not found, the rest are rule refusals.

use crate::{credentials, tenant};
use deedlog_kernel::{Reason, Refusal, RefusalKind, TENANT_SUSPENDED};

impl Refusal for tenant::Error {
    fn kind(&self) -> RefusalKind {
        match self {
            tenant::Error::Invalid { field, reason } => RefusalKind::InvalidArgument {
                field: (*field).to_owned(),
                reason: reason.clone(),
            },
            tenant::Error::NotFound | tenant::Error::UnknownUser(_) => RefusalKind::NotFound,
            tenant::Error::AlreadyExists => RefusalKind::Refused(Reason::new("TENANT_EXISTS")),
            tenant::Error::Suspended => RefusalKind::Refused(Reason::new(TENANT_SUSPENDED)),
            tenant::Error::NotSuspended => {
                RefusalKind::Refused(Reason::new("TENANT_NOT_SUSPENDED"))
            }
            tenant::Error::EmailTaken { .. } => RefusalKind::Refused(Reason::new("EMAIL_TAKEN")),
            tenant::Error::MayNotGrant { by, role } => RefusalKind::Refused(
                Reason::new("ROLE_NOT_GRANTABLE")
                    .with("grantedBy", by)
                    .with("role", role),
            ),
            tenant::Error::LastActiveAdmin => {
                RefusalKind::Refused(Reason::new("LAST_ACTIVE_ADMIN"))
            }
            tenant::Error::InvitationUsed => RefusalKind::Refused(Reason::new("INVITATION_USED")),
            tenant::Error::NotDeactivated(user) => {
                RefusalKind::Refused(Reason::new("USER_NOT_DEACTIVATED").with("userId", user))
            }
            tenant::Error::Forgotten(user) => {
                RefusalKind::Refused(Reason::new("USER_FORGOTTEN").with("userId", user))
            }
            tenant::Error::WrongUserStatus { user, status, .. } => RefusalKind::Refused(
                Reason::new("WRONG_USER_STATUS")
                    .with("userId", user)
                    .with("status", format!("{status:?}").to_uppercase()),
            ),
        }
    }
}

impl Refusal for credentials::Error {
    fn kind(&self) -> RefusalKind {
        match self {
            credentials::Error::InvalidHash => RefusalKind::InvalidArgument {
                field: "password".to_owned(),
                reason: self.to_string(),
            },
            credentials::Error::NoPassword => RefusalKind::Refused(Reason::new("NO_PASSWORD")),
            credentials::Error::UserInactive => RefusalKind::Refused(Reason::new("USER_INACTIVE")),
            credentials::Error::Locked { until } => RefusalKind::Refused(
                Reason::new("ACCOUNT_LOCKED").with("until", until.to_rfc3339()),
            ),
            credentials::Error::UnknownToken => {
                RefusalKind::Refused(Reason::new("REFRESH_TOKEN_UNKNOWN"))
            }
            credentials::Error::TokenExpired { .. } => {
                RefusalKind::Refused(Reason::new("REFRESH_TOKEN_EXPIRED"))
            }
            credentials::Error::TokenReused => {
                RefusalKind::Refused(Reason::new("REFRESH_TOKEN_REUSED"))
            }
        }
    }
}
