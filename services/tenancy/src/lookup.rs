//! Answers for the other services: the caller's tenant, a user, the keys.

use crate::{tenant_target, TenancyApi};
use deedlog_kernel::Module;
use deedlog_proto::common::v1::{AsOfRequest, RecordState};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_service::convert::user;
use deedlog_service::directory::role_to_proto;
use deedlog_service::Error;
use deedlog_tenancy_domain::tenant::{Tenant, Tenants, UserStatus};
use tonic::{Request, Response, Status};

impl TenancyApi {
    async fn caller_tenant<T>(&self, request: &Request<T>) -> Result<(Tenant, u64), Error> {
        let auth = self.auth.caller(request)?;
        let tenant = auth.caller.tenant;
        let (state, version) = self
            .executor
            .load::<Tenants>(tenant, tenant_target(tenant))
            .await?;
        let roster = state
            .0
            .ok_or_else(|| Error::NotFound("the tenant does not exist".to_owned()))?;
        Ok((roster, version))
    }

    pub(crate) async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let tenant_id = self.auth.caller(&request)?.caller.tenant;
        let (t, version) = self.caller_tenant(&request).await?;
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
        }))
    }

    pub(crate) async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let id = user("user_id", &request.get_ref().user_id)?;
        let (t, _) = self.caller_tenant(&request).await?;
        let member = t
            .members
            .get(&id)
            .ok_or_else(|| Error::NotFound(format!("user {id} is not a user of this tenant")))?;
        Ok(Response::new(pb::User {
            user_id: id.to_string(),
            email: member.email.clone(),
            display_name: member.display_name.clone(),
            role: role_to_proto(member.role).into(),
            status: match member.status {
                UserStatus::Invited => pb::UserStatus::Invited,
                UserStatus::Active => pb::UserStatus::Active,
                UserStatus::Deactivated => pb::UserStatus::Deactivated,
            }
            .into(),
        }))
    }

    /// The caller's tenant as of an instant, for admins and auditors. Only
    /// tenant streams are shown: the shared path refuses any other stream
    /// type (a user's credentials, a slug) as not found, and the log's
    /// tenant binding hides every other tenant's stream.
    pub(crate) async fn tenant_as_of(
        &self,
        request: Request<AsOfRequest>,
    ) -> Result<Response<RecordState>, Status> {
        let state = deedlog_service::state_as_of::<Tenants>(
            &self.executor,
            &self.auth,
            &request,
            crate::TENANT_STREAM,
        )
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

fn module_to_proto(module: Module) -> pb::Module {
    match module {
        Module::Properties => pb::Module::Properties,
        Module::Deals => pb::Module::Deals,
        Module::Communications => pb::Module::Communications,
        Module::Analytics => pb::Module::Analytics,
    }
}
