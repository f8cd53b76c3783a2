//! The tenant's own administration: name, suspension, modules, settings and
//! the user roster. Admins do all of it; managers invite and re-role agents
//! and viewers (the domain bounds which roles a role may give). Every call
//! is checked against the tenant's roster as it is now
//! ([`TenancyApi::admitted`]): the caller's current role, not the token's.

use crate::convert;
use crate::session::together_reply;
use crate::{credentials_target, derived, step, tenant_target, TenancyApi};
use deedlog_kernel::{Role, UserId};
use deedlog_proto::common::v1::{CommandOptions, CommandReply};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_runtime::auth::{Caller, Purpose};
use deedlog_service::convert::user;
use deedlog_service::request::required_uuid;
use deedlog_service::Answer;
use deedlog_service::{require_role, Authenticated, CommandRequest, Error, Executed};
use deedlog_tenancy_domain::credentials::{self, Credentials};
use deedlog_tenancy_domain::tenant::{Action, Event, NewUser, Tenants};
use tonic::{Request, Response};

fn admins(role: Role) -> bool {
    role == Role::Admin
}

fn admins_and_managers(role: Role) -> bool {
    role.manages_all_records()
}

impl TenancyApi {
    /// Runs `action` on the caller's tenant after checking their role.
    pub(crate) async fn tenant_command<T: CommandRequest>(
        &self,
        request: Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
        action: impl Fn(&Authenticated, &T) -> Result<Action, Error>,
    ) -> Answer<CommandReply> {
        let (auth, _, _) = self.admitted(&request).await?;
        require_role(&auth, allowed, what)?;
        let body = request.get_ref();
        let action = action(&auth, body)?;
        let done = self.on_tenant(&auth, body, body.options(), action).await?;
        Ok(Response::new(done.reply()))
    }

    async fn on_tenant(
        &self,
        auth: &Authenticated,
        request: &impl prost::Message,
        options: Option<&CommandOptions>,
        action: Action,
    ) -> Result<Executed<Event>, Error> {
        let env = auth.command(request, options)?;
        self.executor
            .execute::<Tenants>(&env, tenant_target(auth.caller.tenant), |_| {
                Ok(action.clone())
            })
            .await
    }

    pub(crate) async fn rename(
        &self,
        request: Request<pb::RenameTenantRequest>,
    ) -> Answer<CommandReply> {
        self.tenant_command(request, admins, "rename the tenant", |_, r| {
            Ok(Action::Rename(r.name.clone()))
        })
        .await
    }

    pub(crate) async fn suspend(
        &self,
        request: Request<pb::SuspendTenantRequest>,
        suspend: bool,
    ) -> Answer<CommandReply> {
        let (auth, _, _) = self.admitted(&request).await?;
        require_role(&auth, admins, "suspend or reactivate the tenant")?;
        let r = request.get_ref();
        let tenant = required_uuid("tenant_id", &r.tenant_id)?;
        if tenant != auth.caller.tenant.as_uuid() {
            return Err(Error::PermissionDenied(
                "an admin may suspend or reactivate only their own tenant".to_owned(),
            )
            .into());
        }
        let action = if suspend {
            Action::Suspend
        } else {
            Action::Reactivate
        };
        let done = self.on_tenant(&auth, r, r.command.as_ref(), action).await?;
        Ok(Response::new(done.reply()))
    }

    pub(crate) async fn set_module(
        &self,
        request: Request<pb::SetModuleRequest>,
    ) -> Answer<CommandReply> {
        self.tenant_command(request, admins, "switch modules", |_, r| {
            let module = convert::module(r.module())?;
            Ok(if r.enabled {
                Action::EnableModule(module)
            } else {
                Action::DisableModule(module)
            })
        })
        .await
    }

    pub(crate) async fn set_communication_settings(
        &self,
        request: Request<pb::SetCommunicationSettingsRequest>,
    ) -> Answer<CommandReply> {
        self.tenant_command(request, admins, "change communication settings", |_, r| {
            Ok(Action::SetCommunicationSettings {
                time_zone: r.time_zone.clone(),
                cadence_limit: r.cadence_limit,
                cadence_window_days: r.cadence_window_days,
            })
        })
        .await
    }

    pub(crate) async fn invite(
        &self,
        request: Request<pb::InviteUserRequest>,
    ) -> Answer<pb::InviteUserReply> {
        let (auth, _, _) = self.admitted(&request).await?;
        require_role(&auth, admins_and_managers, "invite users")?;
        let r = request.get_ref();
        let env = auth.command(r, r.command.as_ref())?;
        let role = convert::role(r.role())?;
        let invited = UserId::from_uuid(derived(env.metadata.command_id.as_uuid(), "user"));
        let invite = Action::Invite {
            user: NewUser {
                id: invited,
                email: r.email.clone(),
                display_name: r.display_name.clone(),
            },
            role,
            by: auth.caller.role,
        };
        let done = self
            .executor
            .execute::<Tenants>(&env, tenant_target(auth.caller.tenant), |_| {
                Ok(invite.clone())
            })
            .await?;
        let caller = Caller {
            user: invited,
            tenant: auth.caller.tenant,
            role,
        };
        let (token, _) = self.token(&caller, Purpose::Invitation, self.lifetimes.invitation)?;
        Ok(Response::new(pb::InviteUserReply {
            reply: Some(done.reply()),
            user_id: invited.to_string(),
            invitation_token: token,
        }))
    }

    pub(crate) async fn change_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
    ) -> Answer<CommandReply> {
        self.tenant_command(request, admins_and_managers, "change roles", |auth, r| {
            Ok(Action::ChangeRole {
                user: user("user_id", &r.user_id)?,
                role: convert::role(r.role())?,
                by: auth.caller.role,
            })
        })
        .await
    }

    /// Forgets a deactivated user (right to erasure): their email and name
    /// read as erased from then on. Their credentials were revoked when they
    /// were deactivated, and a forgotten user never signs in again.
    pub(crate) async fn forget_user(
        &self,
        request: Request<pb::ForgetUserRequest>,
    ) -> Answer<CommandReply> {
        self.tenant_command(request, admins, "forget users", |_, r| {
            Ok(Action::Forget {
                user: user("user_id", &r.user_id)?,
            })
        })
        .await
    }

    /// Deactivates a user and revokes every refresh token they hold, in one
    /// transaction: a deactivated user never keeps a token that refreshes.
    pub(crate) async fn deactivate(
        &self,
        request: Request<pb::DeactivateUserRequest>,
    ) -> Answer<CommandReply> {
        let (auth, _, _) = self.admitted(&request).await?;
        require_role(&auth, admins, "deactivate users")?;
        let r = request.get_ref();
        let target = user("user_id", &r.user_id)?;
        let env = auth.command(r, r.command.as_ref())?;
        let executor = &self.executor;
        let tenant = auth.caller.tenant;
        let done = executor
            .retry_on_conflict(|| async {
                let deactivation = executor
                    .prepare::<Tenants>(&env, tenant_target(tenant), |_| {
                        Ok(Action::Deactivate(target))
                    })
                    .await?;
                let revoke = step(&env, "revoke");
                let credentials = credentials_target(target);
                executor
                    .first_then(deactivation, &revoke, credentials, || {
                        executor.prepare::<Credentials>(&revoke, credentials, |_| {
                            Ok(credentials::Action::RevokeAll)
                        })
                    })
                    .await
            })
            .await?;
        Ok(Response::new(together_reply(&done, 0)))
    }
}
