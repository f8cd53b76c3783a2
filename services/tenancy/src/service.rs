//! The gRPC surface: each RPC hands over to the module that does the work.

use crate::TenancyApi;
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_proto::tenancy::v1::tenancy_service_server::TenancyService;
use tonic::{Request, Response, Status};

#[tonic::async_trait]
impl TenancyService for TenancyApi {
    async fn get_as_of(
        &self,
        request: Request<AsOfRequest>,
    ) -> Result<Response<RecordState>, Status> {
        self.tenant_as_of(request).await
    }

    async fn register_tenant(
        &self,
        request: Request<pb::RegisterTenantRequest>,
    ) -> Result<Response<pb::RegisterTenantReply>, Status> {
        self.register(request).await
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        TenancyApi::login(self, request).await
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        TenancyApi::refresh(self, request).await
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutReply>, Status> {
        TenancyApi::logout(self, request).await
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        TenancyApi::accept_invitation(self, request).await
    }

    async fn rename_tenant(
        &self,
        request: Request<pb::RenameTenantRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.rename(request).await
    }

    async fn suspend_tenant(
        &self,
        request: Request<pb::SuspendTenantRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.suspend(request, true).await
    }

    async fn reactivate_tenant(
        &self,
        request: Request<pb::ReactivateTenantRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        let (metadata, extensions, r) = request.into_parts();
        let as_suspend = pb::SuspendTenantRequest {
            command: r.command,
            tenant_id: r.tenant_id,
        };
        self.suspend(Request::from_parts(metadata, extensions, as_suspend), false)
            .await
    }

    async fn set_module(
        &self,
        request: Request<pb::SetModuleRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        TenancyApi::set_module(self, request).await
    }

    async fn set_communication_settings(
        &self,
        request: Request<pb::SetCommunicationSettingsRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        TenancyApi::set_communication_settings(self, request).await
    }

    async fn invite_user(
        &self,
        request: Request<pb::InviteUserRequest>,
    ) -> Result<Response<pb::InviteUserReply>, Status> {
        self.invite(request).await
    }

    async fn change_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        TenancyApi::change_role(self, request).await
    }

    async fn deactivate_user(
        &self,
        request: Request<pb::DeactivateUserRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.deactivate(request).await
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        TenancyApi::get_tenant(self, request).await
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        TenancyApi::get_user(self, request).await
    }

    async fn get_signing_keys(
        &self,
        _request: Request<pb::GetSigningKeysRequest>,
    ) -> Result<Response<pb::SigningKeys>, Status> {
        Ok(Response::new(self.signing_keys()))
    }
}
