//! Registration, login, refresh, logout and accepting an invitation: the
//! calls made without an access token.

use crate::secrets::{check_password, hash_password, verify_password, RefreshToken};
use crate::{credentials_target, derived, slug_target, step, tenant_target, TenancyApi};
use chrono::Utc;
use deedlog_eventstore::StreamQuery;
use deedlog_kernel::{codec, Reason, Role, TenantId, UserId, TENANT_SUSPENDED};
use deedlog_proto::common::v1::CommandReply;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_runtime::auth::{Caller, Purpose};
use deedlog_service::directory::role_to_proto;
use deedlog_service::request::{envelope, required_uuid, trace_context};
use deedlog_service::{CommandEnvelope, Error, Executed, Part};
use deedlog_tenancy_domain::credentials::{self, Credentials, NewToken};
use deedlog_tenancy_domain::slug::{self, Slugs};
use deedlog_tenancy_domain::tenant::{self, NewUser, Tenants, UserStatus};
use tonic::{Request, Response, Status};
use uuid::Uuid;

const WRONG_LOGIN: &str = "wrong tenant, email or password";

impl TenancyApi {
    pub(crate) async fn register(
        &self,
        request: Request<pb::RegisterTenantRequest>,
    ) -> Result<Response<pb::RegisterTenantReply>, Status> {
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

    /// The password step of a command that sets one with other changes.
    async fn prepare_password(
        &self,
        env: &CommandEnvelope,
        user: UserId,
        hash: &str,
    ) -> Result<Part, Error> {
        let set = credentials::Action::SetPassword {
            hash: hash.to_owned(),
        };
        self.executor
            .prepare::<Credentials>(&step(env, "password"), credentials_target(user), |_| {
                Ok(set)
            })
            .await
    }

    /// Every failure answers the same UNAUTHENTICATED "wrong tenant, email
    /// or password" after the same Argon2 work (a dummy hash when there is
    /// no user or no password); only who knows the password learns that the
    /// tenant is suspended. Failures are counted per client address, and an
    /// address over the limit is refused before anything is checked.
    pub(crate) async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        let address = self
            .throttle
            .client_address(request.metadata(), request.remote_addr());
        let attempt = self.throttle.admit(address).map_err(|wait| {
            Status::resource_exhausted(format!(
                "too many failed logins from this address; try again in {} s",
                wait.as_secs_f64().ceil().max(1.0)
            ))
        })?;
        let trace = trace_context(request.metadata());
        let r = request.into_inner();
        let wrong = || Error::Unauthenticated(WRONG_LOGIN.to_owned());
        let outcome: Result<pb::TokenPair, Error> = async {
            let tenant = self.tenant_of_slug(r.tenant_slug.trim()).await?;
            let roster = match tenant {
                Some(tenant) => {
                    let (state, _) = self
                        .executor
                        .load::<Tenants>(tenant, tenant_target(tenant))
                        .await?;
                    state.0.map(|roster| (tenant, roster))
                }
                None => None,
            };
            let email = tenant::normalise_email(&r.email).ok();
            let found = roster.and_then(|(tenant, roster)| {
                let email = email.as_ref()?;
                let (user, member) = roster.members.iter().find(|(_, m)| m.email == *email)?;
                Some((tenant, *user, member.clone(), roster.suspended))
            });
            let Some((tenant, user, member, suspended)) = found else {
                // The same Argon2 work as for a user, against a dummy hash.
                verify_password(r.password.clone(), None).await?;
                return Err(wrong());
            };
            let (credentials, _) = self
                .executor
                .load::<Credentials>(tenant, credentials_target(user))
                .await?;
            let matches = verify_password(r.password.clone(), credentials.password_hash).await?;
            // A wrong password is recorded below (towards the lock-out) instead.
            if matches && suspended && !member.role.may_use_suspended_tenant() {
                return Err(Error::refused(
                    Reason::new(TENANT_SUSPENDED),
                    "the tenant is suspended; only its admins and auditors can sign in",
                ));
            }
            let refresh = RefreshToken::generate(tenant, user)?;
            let at = Utc::now();
            let refresh_expires =
                at + chrono::Duration::from_std(self.lifetimes.refresh).unwrap_or_default();
            let env = self.system_envelope(tenant, user, trace)?;
            let login = credentials::Action::Login {
                at,
                password_matches: matches,
                user_active: member.status == UserStatus::Active,
                token: NewToken {
                    id: refresh.id(),
                    expires_at: refresh_expires,
                },
            };
            let events = match self
                .executor
                .execute::<Credentials>(&env, credentials_target(user), |_| Ok(login.clone()))
                .await
            {
                Ok(done) => done.events,
                // Locked out, inactive or without a password: nothing more is told.
                Err(Error::Refused { .. }) => return Err(wrong()),
                Err(other) => return Err(other),
            };
            // A failure (recorded, perhaps with the lock-out it caused).
            if !matches!(
                events.first(),
                Some(credentials::Event::LoginSucceeded { .. })
            ) {
                return Err(wrong());
            }
            self.pair(tenant, user, member.role, &refresh, refresh_expires)
        }
        .await;
        // Only a wrong tenant, email or password counts against the address.
        if !matches!(outcome, Err(Error::Unauthenticated(_))) {
            self.throttle.forget(attempt);
        }
        Ok(Response::new(outcome?))
    }

    pub(crate) async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        let trace = trace_context(request.metadata());
        let old = RefreshToken::parse(&request.into_inner().refresh_token)?;
        let invalid = || Error::Unauthenticated("the refresh token is not valid".to_owned());
        let (state, _) = self
            .executor
            .load::<Tenants>(old.tenant, tenant_target(old.tenant))
            .await?;
        let roster = state.0.ok_or_else(invalid)?;
        let member = roster
            .members
            .get(&old.user)
            .filter(|m| m.status == UserStatus::Active)
            .ok_or_else(invalid)?;
        let new = RefreshToken::generate(old.tenant, old.user)?;
        let at = Utc::now();
        let expires = at + chrono::Duration::from_std(self.lifetimes.refresh).unwrap_or_default();
        let rotate = credentials::Action::Refresh {
            at,
            token: old.id(),
            replacement: NewToken {
                id: new.id(),
                expires_at: expires,
            },
        };
        let env = self.system_envelope(old.tenant, old.user, trace)?;
        let done = self
            .executor
            .execute::<Credentials>(&env, credentials_target(old.user), |_| Ok(rotate.clone()))
            .await
            .map_err(|e| match e {
                Error::Refused { message, .. } => Error::Unauthenticated(message),
                other => other,
            })?;
        // A replayed token: its family was revoked (recorded), and it is refused.
        if matches!(
            done.events.first(),
            Some(credentials::Event::RefreshTokenReused { .. })
        ) {
            return Err(Error::Unauthenticated(credentials::REUSED.to_owned()).into());
        }
        Ok(Response::new(self.pair(
            old.tenant,
            old.user,
            member.role,
            &new,
            expires,
        )?))
    }

    pub(crate) async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutReply>, Status> {
        let trace = trace_context(request.metadata());
        let token = RefreshToken::parse(&request.into_inner().refresh_token)?;
        let env = self.system_envelope(token.tenant, token.user, trace)?;
        let logout = credentials::Action::Logout { token: token.id() };
        self.executor
            .execute::<Credentials>(&env, credentials_target(token.user), |_| Ok(logout.clone()))
            .await?;
        Ok(Response::new(pb::LogoutReply {}))
    }

    pub(crate) async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<CommandReply>, Status> {
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

    /// The tenant holding `slug`, read across tenants (the caller has no tenant yet).
    async fn tenant_of_slug(&self, slug: &str) -> Result<Option<TenantId>, Error> {
        let target = slug_target(slug);
        let events = self
            .reader
            .read_stream(target.stream_id, StreamQuery::ALL)
            .await?;
        let Some(first) = events.first() else {
            return Ok(None);
        };
        match codec::decode::<slug::Event>(&first.event_type, &first.payload) {
            Ok(slug::Event::SlugClaimed { tenant, .. }) => Ok(Some(tenant)),
            Err(e) => Err(Error::internal("decode a slug claim", &e)),
        }
    }

    /// Metadata for a command the user makes by signing in or out.
    fn system_envelope(
        &self,
        tenant: TenantId,
        user: UserId,
        trace: Option<deedlog_kernel::TraceContext>,
    ) -> Result<CommandEnvelope, Error> {
        let options = deedlog_proto::common::v1::CommandOptions {
            command_id: Uuid::now_v7().to_string(),
            ..Default::default()
        };
        envelope(
            &options,
            Some(&options),
            tenant,
            format!("user:{user}"),
            trace,
        )
    }

    fn pair(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Role,
        refresh: &RefreshToken,
        refresh_expires: chrono::DateTime<Utc>,
    ) -> Result<pb::TokenPair, Error> {
        let caller = Caller { user, tenant, role };
        let (access, access_expires) =
            self.token(&caller, Purpose::Access, self.lifetimes.access)?;
        Ok(pb::TokenPair {
            access_token: access,
            access_expires_at_unix: access_expires.timestamp(),
            refresh_token: refresh.encode(),
            refresh_expires_at_unix: refresh_expires.timestamp(),
            user_id: user.to_string(),
            tenant_id: tenant.to_string(),
            role: role_to_proto(role).into(),
        })
    }
}

/// The request as fingerprinted: without its password, whose fast digest
/// in the command record could be brute-forced. A repeat with another
/// password is then answered with the first outcome, and changes nothing.
/// Likewise an invitation token is replaced by the user it names.
fn without_password<R: Clone>(request: &R, password: impl Fn(&mut R) -> &mut String) -> R {
    let mut request = request.clone();
    password(&mut request).clear();
    request
}

/// The reply to a command that changed several records: the record at
/// `main`, and the last position written by any of them.
pub(crate) fn together_reply(done: &[Executed<()>], main: usize) -> CommandReply {
    let mut reply = done[main].reply();
    reply.position = done.iter().map(|d| d.position).max().unwrap_or(0);
    reply.duplicate = done.iter().all(|d| d.duplicate);
    reply
}
