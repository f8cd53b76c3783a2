//! Joining a tenant without an access token: registering it with its first
//! admin, or accepting an invitation.

use super::{together_reply, without_password};
use crate::secrets::{check_password, hash_password};
use crate::{credentials_target, derived, slug_target, step, tenant_target, TenancyApi};
use deedlog_kernel::{Reason, TenantId, UserId};
use deedlog_proto::common::v1::CommandReply;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_runtime::auth::Purpose;
use deedlog_service::request::{envelope, required_uuid, trace_context};
use deedlog_service::Answer;
use deedlog_service::Error;
use deedlog_tenancy_domain::slug::{self, Slugs};
use deedlog_tenancy_domain::tenant::{self, NewUser, Tenants};
use tonic::{Request, Response};

impl TenancyApi {
    pub(crate) async fn register(
        &self,
        request: Request<pb::RegisterTenantRequest>,
    ) -> Answer<pb::RegisterTenantReply> {
        let trace = trace_context(request.metadata());
        let r = request.into_inner();
        let command = required_uuid(
            "command.command_id",
            r.command.as_ref().map_or("", |c| c.command_id.as_str()),
        )?;
        tenant::check_slug(&r.slug).map_err(|e| deedlog_service::executor::refusal(&e))?;
        check_password("admin_password", &r.admin_password)?;
        let tenant = TenantId::from_uuid(derived(command, "tenant"));
        let admin = UserId::from_uuid(derived(command, "admin"));
        let env = envelope(
            &without_password(&r, |r| &mut r.admin_password),
            r.command.as_ref(),
            tenant,
            format!("user:{admin}"),
            trace,
        )?;
        let claim = slug::Claim {
            slug: r.slug.clone(),
            tenant,
        };
        let register = tenant::Action::Register {
            name: r.name.clone(),
            slug: r.slug.clone(),
            first_admin: NewUser {
                id: admin,
                email: r.admin_email.clone(),
                display_name: r.admin_display_name.clone(),
            },
        };
        // Every rule is checked before the (costly) hash and before anything is stored.
        // The first admin's fields are the request's `admin_*` fields.
        const ADMIN: deedlog_service::Paths = deedlog_service::Paths(&[
            ("email", "admin_email"),
            ("display_name", "admin_display_name"),
        ]);
        tenant::decide(&tenant::State::default(), &register)
            .map_err(|e| ADMIN.rename(deedlog_service::executor::refusal(&e)))?;
        let hash = hash_password(r.admin_password).await?;
        let executor = &self.executor;
        let done = executor
            .retry_on_conflict(|| async {
                let parts = vec![
                    executor
                        .prepare::<Slugs>(&step(&env, "slug"), slug_target(&r.slug), |_| {
                            Ok(claim.clone())
                        })
                        .await?,
                    executor
                        .prepare::<Tenants>(&step(&env, "tenant"), tenant_target(tenant), |_| {
                            Ok(register.clone())
                        })
                        .await?,
                    self.prepare_password(&env, admin, &hash).await?,
                ];
                executor.append_together(parts, true).await
            })
            .await
            .map_err(|e| match e {
                // The slug's stream belongs to another tenant: someone holds it.
                Error::NotFound(_) => Error::refused(
                    Reason::new("SLUG_TAKEN"),
                    format!("the slug {:?} is taken; choose another", r.slug),
                ),
                other => other,
            })?;
        Ok(Response::new(pb::RegisterTenantReply {
            reply: Some(together_reply(&done, 1)),
            tenant_id: tenant.to_string(),
            admin_user_id: admin.to_string(),
        }))
    }

    pub(crate) async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Answer<CommandReply> {
        let trace = trace_context(request.metadata());
        let r = request.into_inner();
        let invited = self
            .auth
            .verifier()
            .verify(&r.invitation_token, Purpose::Invitation)
            .map_err(Error::from)?;
        check_password("password", &r.password)?;
        // Fingerprinted by whom the invitation names, not by its token: a
        // token issued again (or under a rotated key) is the same acceptance.
        let mut print = without_password(&r, |r| &mut r.password);
        print.invitation_token = format!("{}/{}", invited.tenant, invited.user);
        let env = envelope(
            &print,
            r.command.as_ref(),
            invited.tenant,
            invited.actor(),
            trace,
        )?;
        let executor = &self.executor;
        let activate = tenant::Action::Activate(invited.user);
        let done = executor
            .retry_on_conflict(|| async {
                // Activation first: it refuses a used invitation (or a
                // deactivated user) before the password is touched, and
                // its expected version lets only one of two racing
                // acceptances through.
                let activation = executor
                    .prepare::<Tenants>(
                        &step(&env, "activate"),
                        tenant_target(invited.tenant),
                        |_| Ok(activate.clone()),
                    )
                    .await?;
                let password = step(&env, "password");
                executor
                    .first_then(
                        activation,
                        &password,
                        credentials_target(invited.user),
                        || async {
                            let hash = hash_password(r.password.clone()).await?;
                            self.prepare_password(&env, invited.user, &hash).await
                        },
                    )
                    .await
            })
            .await?;
        Ok(Response::new(together_reply(&done, 0)))
    }
}
