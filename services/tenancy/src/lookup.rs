//! Answers for the other services: the caller's tenant with its users'
//! current roles and statuses, a user, the keys; and the check every call
//! with an access token passes here ([`TenancyApi::admitted`]).

use crate::convert::{module_to_proto, status_to_proto};
use crate::{tenant_target, TenancyApi};
use deedlog_kernel::{current_role, Denied, MemberStatus, Membership};
use deedlog_proto::common::v1::{AsOfRequest, RecordState};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_service::convert::user;
use deedlog_service::directory::role_to_proto;
use deedlog_service::Answer;
use deedlog_service::{Authenticated, Error};
use deedlog_tenancy_domain::tenant::{Member, Tenant, Tenants, UserStatus};
use tonic::{Request, Response};

impl TenancyApi {
    /// Verifies the access token and checks its user against the tenant as
    /// it is in the log now (the rule every service applies,
    /// [`current_role`]); returns the caller with their current role, and
    /// the tenant with its version. The token's role claim decides nothing.
    pub(crate) async fn admitted<T>(
        &self,
        request: &Request<T>,
    ) -> Result<(Authenticated, Tenant, u64), Error> {
        let mut auth = self.auth.caller(request)?;
        let tenant = auth.caller.tenant;
        let (state, version) = self
            .executor
            .load::<Tenants>(tenant, tenant_target(tenant))
            .await?;
        let roster = state.0.ok_or(Error::from(Denied::NotAMember))?;
        let member = roster.members.get(&auth.caller.user).map(membership);
        auth.caller.role = current_role(member, roster.suspended)?;
        Ok((auth, roster, version))
    }

    pub(crate) async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Answer<pb::Tenant> {
        let (auth, t, version) = self.admitted(&request).await?;
        let tenant_id = auth.caller.tenant;
        Ok(Response::new(pb::Tenant {
            tenant_id: tenant_id.to_string(),
            name: t.name.clone(),
            slug: t.slug.clone(),
            suspended: t.suspended,
            modules: t
                .modules
                .iter()
                .map(|m| module_to_proto(*m).into())
                .collect(),
            time_zone: t.settings.time_zone.clone(),
            cadence_limit: t.settings.cadence_limit,
            cadence_window_days: t.settings.cadence_window_days,
            version,
            members: t
                .members
                .iter()
                .map(|(id, m)| pb::Member {
                    user_id: id.to_string(),
                    role: role_to_proto(m.role).into(),
                    status: status_to_proto(m.status).into(),
                })
                .collect(),
        }))
    }

    pub(crate) async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Answer<pb::User> {
        let id = user("user_id", &request.get_ref().user_id)?;
        let (_, t, _) = self.admitted(&request).await?;
        let member = t
            .members
            .get(&id)
            .ok_or_else(|| Error::NotFound(format!("user {id} is not a user of this tenant")))?;
        Ok(Response::new(pb::User {
            user_id: id.to_string(),
            email: member.email.clone(),
            display_name: member.display_name.clone(),
            role: role_to_proto(member.role).into(),
            status: status_to_proto(member.status).into(),
        }))
    }

    /// The caller's tenant as of an instant, for admins and auditors. Only
    /// tenant streams are shown: the shared path refuses any other stream
    /// type (a user's credentials, a slug) as not found, and the log's
    /// tenant binding hides every other tenant's stream.
    pub(crate) async fn tenant_as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        let (auth, _, _) = self.admitted(&request).await?;
        let state =
            deedlog_service::state_as_of::<Tenants>(&self.executor, &auth, request.get_ref())
                .await?;
        Ok(Response::new(state))
    }

    pub(crate) fn signing_keys(&self) -> pb::SigningKeys {
        pb::SigningKeys {
            algorithm: "EdDSA".to_owned(),
            keys: self
                .public_keys
                .iter()
                .map(|(kid, pem)| pb::SigningKey {
                    kid: kid.clone(),
                    public_key_pem: pem.clone(),
                })
                .collect(),
        }
    }
}

/// A member as the access rule sees them.
fn membership(member: &Member) -> Membership {
    Membership {
        role: member.role,
        status: match member.status {
            UserStatus::Invited => MemberStatus::Invited,
            UserStatus::Active => MemberStatus::Active,
            UserStatus::Deactivated => MemberStatus::Deactivated,
        },
    }
}
