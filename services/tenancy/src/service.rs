//! The gRPC surface: each RPC hands over to the module that does the work.

use crate::TenancyApi;
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_proto::tenancy::v1::tenancy_service_server::TenancyService;
use deedlog_service::Answer;
use tonic::{Request, Response};

#[tonic::async_trait]
impl TenancyService for TenancyApi {
    async fn get_as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        self.tenant_as_of(request).await
    }

    async fn register_tenant(
        &self,
        request: Request<pb::RegisterTenantRequest>,
    ) -> Answer<pb::RegisterTenantReply> {
        self.register(request).await
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Answer<pb::TokenPair> {
        TenancyApi::login(self, request).await
    }

    async fn refresh(&self, request: Request<pb::RefreshRequest>) -> Answer<pb::TokenPair> {
        TenancyApi::refresh(self, request).await
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Answer<pb::LogoutReply> {
        TenancyApi::logout(self, request).await
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Answer<CommandReply> {
        TenancyApi::accept_invitation(self, request).await
    }

    async fn rename_tenant(
        &self,
        request: Request<pb::RenameTenantRequest>,
    ) -> Answer<CommandReply> {
        self.rename(request).await
    }

    async fn suspend_tenant(
        &self,
        request: Request<pb::SuspendTenantRequest>,
    ) -> Answer<CommandReply> {
        self.suspend(request, true).await
    }

    async fn reactivate_tenant(
        &self,
        request: Request<pb::ReactivateTenantRequest>,
    ) -> Answer<CommandReply> {
        let (metadata, extensions, r) = request.into_parts();
        let as_suspend = pb::SuspendTenantRequest {
            command: r.command,
            tenant_id: r.tenant_id,
        };
        self.suspend(Request::from_parts(metadata, extensions, as_suspend), false)
            .await
    }

    async fn set_module(&self, request: Request<pb::SetModuleRequest>) -> Answer<CommandReply> {
        TenancyApi::set_module(self, request).await
    }

    async fn set_communication_settings(
        &self,
        request: Request<pb::SetCommunicationSettingsRequest>,
    ) -> Answer<CommandReply> {
        TenancyApi::set_communication_settings(self, request).await
    }

    async fn invite_user(
        &self,
        request: Request<pb::InviteUserRequest>,
    ) -> Answer<pb::InviteUserReply> {
        self.invite(request).await
    }

    async fn change_role(&self, request: Request<pb::ChangeRoleRequest>) -> Answer<CommandReply> {
        TenancyApi::change_role(self, request).await
    }

    async fn deactivate_user(
        &self,
        request: Request<pb::DeactivateUserRequest>,
    ) -> Answer<CommandReply> {
        self.deactivate(request).await
    }

    async fn forget_user(&self, request: Request<pb::ForgetUserRequest>) -> Answer<CommandReply> {
        TenancyApi::forget_user(self, request).await
    }

    async fn mark_notifications_read(
        &self,
        request: Request<pb::MarkNotificationsReadRequest>,
    ) -> Answer<CommandReply> {
        TenancyApi::mark_notifications_read(self, request).await
    }

    async fn get_tenant(&self, request: Request<pb::GetTenantRequest>) -> Answer<pb::Tenant> {
        TenancyApi::get_tenant(self, request).await
    }

    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Answer<pb::User> {
        TenancyApi::get_user(self, request).await
    }

    async fn get_signing_keys(
        &self,
        _request: Request<pb::GetSigningKeysRequest>,
    ) -> Answer<pb::SigningKeys> {
        Ok(Response::new(self.signing_keys()))
    }
}
