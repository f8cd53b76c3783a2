//! Signing in and out: login, refresh and logout, and the token pair they
//! hand out.

use crate::secrets::{verify_password, RefreshToken};
use crate::{credentials_target, slug_target, tenant_target, TenancyApi};
use chrono::Utc;
use deedlog_eventstore::StreamQuery;
use deedlog_kernel::{codec, Reason, Role, TenantId, UserId, TENANT_SUSPENDED};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_runtime::auth::{Caller, Purpose};
use deedlog_service::directory::role_to_proto;
use deedlog_service::request::{envelope, trace_context};
use deedlog_service::Answer;
use deedlog_service::{CommandEnvelope, Error};
use deedlog_tenancy_domain::credentials::{self, Credentials, NewToken};
use deedlog_tenancy_domain::slug;
use deedlog_tenancy_domain::tenant::{self, Tenants, UserStatus};
use tonic::{Request, Response, Status};
use uuid::Uuid;

const WRONG_LOGIN: &str = "wrong tenant, email or password";

impl TenancyApi {
    /// Every failure answers the same UNAUTHENTICATED "wrong tenant, email
    /// or password" after the same Argon2 work (a dummy hash when there is
    /// no user or no password); only who knows the password learns that the
    /// tenant is suspended. Failures are counted per client address, and an
    /// address over the limit is refused before anything is checked.
    pub(crate) async fn login(&self, request: Request<pb::LoginRequest>) -> Answer<pb::TokenPair> {
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
                // A forgotten user's email reads as erased: it names nobody.
                let (user, member) = roster
                    .members
                    .iter()
                    .find(|(_, m)| !m.forgotten && m.email == *email)?;
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
    ) -> Answer<pb::TokenPair> {
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
    ) -> Answer<pb::LogoutReply> {
        let trace = trace_context(request.metadata());
        let token = RefreshToken::parse(&request.into_inner().refresh_token)?;
        let env = self.system_envelope(token.tenant, token.user, trace)?;
        let logout = credentials::Action::Logout { token: token.id() };
        self.executor
            .execute::<Credentials>(&env, credentials_target(token.user), |_| Ok(logout.clone()))
            .await?;
        Ok(Response::new(pb::LogoutReply {}))
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
