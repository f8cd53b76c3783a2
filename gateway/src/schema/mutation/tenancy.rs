//! Mutations of the tenancy context, one per command: signing up, the
//! tenant's settings and its users. `registerTenant` and `acceptInvitation`
//! need no access token; reads are served from the read models.

use super::command::{call, call_without_token, result, rpc, send, CommandInput, CommandResult};
use crate::schema::enums::{Role, TenantModule};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_read_model::Int64;
use uuid::Uuid;

/// A new tenant (brokerage) and its first admin.
#[derive(Debug, InputObject)]
pub struct RegisterTenantInput {
    pub name: String,
    /// Lowercase letters, digits and dashes; unique across deedlog.
    pub slug: String,
    pub admin_email: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

/// A registered tenant: sign in as its admin with `login`.
#[derive(Debug, SimpleObject)]
pub struct RegisteredTenant {
    pub result: CommandResult,
    pub tenant_id: String,
    pub admin_user_id: String,
}

/// An invited user and the token they accept the invitation with.
#[derive(Debug, SimpleObject)]
pub struct InvitedUser {
    pub result: CommandResult,
    pub user_id: String,
    /// A signed, expiring token for `acceptInvitation`.
    pub invitation_token: String,
}

#[derive(Debug, Default)]
pub struct TenancyMutation;

#[Object]
impl TenancyMutation {
    /// Registers a tenant with its first admin (the sign-up; needs no token).
    async fn register_tenant(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: RegisterTenantInput,
    ) -> Result<RegisteredTenant> {
        let body = pb::RegisterTenantRequest {
            command: command.options()?,
            name: input.name,
            slug: input.slug,
            admin_email: input.admin_email,
            admin_display_name: input.admin_display_name,
            admin_password: input.admin_password,
        };
        let registered = call_without_token(ctx, body, rpc!(tenancy.register_tenant)).await?;
        Ok(RegisteredTenant {
            result: result(registered.reply)?,
            tenant_id: registered.tenant_id,
            admin_user_id: registered.admin_user_id,
        })
    }

    /// Sets the password of an invited user and activates them. Needs no
    /// access token: the invitation token proves who they are.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        invitation_token: String,
        password: String,
    ) -> Result<CommandResult> {
        let body = pb::AcceptInvitationRequest {
            command: command.options()?,
            invitation_token,
            password,
        };
        let reply = call_without_token(ctx, body, rpc!(tenancy.accept_invitation)).await?;
        Ok(CommandResult { reply })
    }

    /// Renames the caller's tenant (admins only).
    async fn rename_tenant(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        name: String,
    ) -> Result<CommandResult> {
        let body = pb::RenameTenantRequest {
            command: command.options()?,
            name,
        };
        send(ctx, body, rpc!(tenancy.rename_tenant)).await
    }

    /// Suspends a tenant; only an admin of that tenant may ask.
    async fn suspend_tenant(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        tenant_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::SuspendTenantRequest {
            command: command.options()?,
            tenant_id: tenant_id.to_string(),
        };
        send(ctx, body, rpc!(tenancy.suspend_tenant)).await
    }

    /// Reactivates a suspended tenant; only an admin of that tenant may ask.
    async fn reactivate_tenant(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        tenant_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ReactivateTenantRequest {
            command: command.options()?,
            tenant_id: tenant_id.to_string(),
        };
        send(ctx, body, rpc!(tenancy.reactivate_tenant)).await
    }

    /// Switches one of the tenant's modules on or off (admins only).
    async fn set_module(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        module: TenantModule,
        enabled: bool,
    ) -> Result<CommandResult> {
        let body = pb::SetModuleRequest {
            command: command.options()?,
            module: pb::Module::from(module).into(),
            enabled,
        };
        send(ctx, body, rpc!(tenancy.set_module)).await
    }

    /// Sets the tenant's time zone (IANA, e.g. Europe/Berlin) and how many
    /// messages a contact may get within how many days (admins only).
    async fn set_communication_settings(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        time_zone: String,
        cadence_limit: u32,
        cadence_window_days: u32,
    ) -> Result<CommandResult> {
        let body = pb::SetCommunicationSettingsRequest {
            command: command.options()?,
            time_zone,
            cadence_limit,
            cadence_window_days,
        };
        send(ctx, body, rpc!(tenancy.set_communication_settings)).await
    }

    /// Invites a user with a role (admins and managers); they join with the
    /// invitation token through `acceptInvitation`.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        email: String,
        display_name: String,
        role: Role,
    ) -> Result<InvitedUser> {
        let body = pb::InviteUserRequest {
            command: command.options()?,
            email,
            display_name,
            role: pb::Role::from(role).into(),
        };
        let invited = call(ctx, body, rpc!(tenancy.invite_user)).await?;
        Ok(InvitedUser {
            result: result(invited.reply)?,
            user_id: invited.user_id,
            invitation_token: invited.invitation_token,
        })
    }

    /// Gives a user another role (admins and managers).
    async fn change_role(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        user_id: Uuid,
        role: Role,
    ) -> Result<CommandResult> {
        let body = pb::ChangeRoleRequest {
            command: command.options()?,
            user_id: user_id.to_string(),
            role: pb::Role::from(role).into(),
        };
        send(ctx, body, rpc!(tenancy.change_role)).await
    }

    /// Deactivates a user and revokes every refresh token they hold (admins only).
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        user_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::DeactivateUserRequest {
            command: command.options()?,
            user_id: user_id.to_string(),
        };
        send(ctx, body, rpc!(tenancy.deactivate_user)).await
    }

    /// Forgets a deactivated user (right to erasure; admins only): their
    /// email and display name read "[erased]" from then on, and they never
    /// sign in again (`USER_NOT_DEACTIVATED` while they are invited or active).
    async fn forget_user(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        user_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ForgetUserRequest {
            command: command.options()?,
            user_id: user_id.to_string(),
        };
        send(ctx, body, rpc!(tenancy.forget_user)).await
    }

    /// Marks the viewer's own notifications read up to the log position
    /// `upTo` (e.g. the newest notification's `position`): from then on
    /// `notifications(unreadOnly: true)` leaves them out, also after a
    /// rebuild of the read model (it is an event, ADR 0038). The mark never
    /// moves back: a position at or below it changes nothing (the result's
    /// `position` is then 0). A negative position, or one beyond the log's
    /// head, is BAD_USER_INPUT and stores nothing. Any role may mark their own.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        #[graphql(validator(custom = "crate::schema::NonNegative(\"upTo\")"))] up_to: Int64,
    ) -> Result<CommandResult> {
        let viewer = crate::viewer::viewer(ctx)?;
        let body = pb::MarkNotificationsReadRequest {
            command: command.options()?,
            user_id: viewer.caller.user.to_string(),
            up_to: crate::schema::log_position("upTo", up_to)?,
        };
        send(ctx, body, rpc!(tenancy.mark_notifications_read)).await
    }
}
