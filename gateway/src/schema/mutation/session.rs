//! Signing in and out, through the tenancy service: `login`, `refresh`,
//! `logout` are the only operations that need no access token.

use super::command::{call_without_token, rpc};
use crate::services::ClientAddress;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_runtime::auth::CLIENT_ADDRESS_HEADER;
use tonic::metadata::MetadataValue;

/// An access token (short-lived, sent as `authorization: Bearer …`) and a
/// refresh token (long-lived, revocable) for getting the next one.
#[derive(Debug, SimpleObject)]
pub struct Session {
    pub access_token: String,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub refresh_token: String,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub user_id: String,
    pub tenant_id: String,
    /// admin, manager, agent, viewer or auditor.
    pub role: String,
}

impl From<pb::TokenPair> for Session {
    fn from(t: pb::TokenPair) -> Self {
        let role = match t.role() {
            pb::Role::Admin => "admin",
            pb::Role::Manager => "manager",
            pb::Role::Agent => "agent",
            pb::Role::Viewer => "viewer",
            pb::Role::Auditor => "auditor",
            pb::Role::Unspecified => "",
        };
        Session {
            access_token: t.access_token,
            access_expires_at: DateTime::from_timestamp(t.access_expires_at_unix, 0),
            refresh_token: t.refresh_token,
            refresh_expires_at: DateTime::from_timestamp(t.refresh_expires_at_unix, 0),
            user_id: t.user_id,
            tenant_id: t.tenant_id,
            role: role.to_owned(),
        }
    }
}

#[derive(Debug, Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in with the tenant's slug, an email and a password. An unknown
    /// tenant or email, a wrong password, a locked-out, deactivated or
    /// not yet activated user all get the same UNAUTHENTICATED answer,
    /// "wrong tenant, email or password", in the same time. Only a user who
    /// gave the right password learns that their tenant is suspended
    /// (RULE_REFUSED; its admins and auditors may still sign in). After
    /// `services.login_failures_per_address` failed logins (10 by default)
    /// from one client address within `services.login_failure_window_s`
    /// (60 s), further logins from it, even with the right password, get
    /// RATE_LIMITED "too many failed logins from this address; try again in
    /// N s". Successful logins are not counted.
    async fn login(
        &self,
        ctx: &Context<'_>,
        tenant_slug: String,
        email: String,
        password: String,
    ) -> Result<Session> {
        let body = pb::LoginRequest {
            tenant_slug,
            email,
            password,
        };
        let client = ctx.data_opt::<ClientAddress>().copied();
        let pair = call_without_token(ctx, body, |mut s, mut r| async move {
            // Tenancy counts failed logins by this address (it believes it
            // only from the gateway, `services.trusted_proxies`).
            if let Some(ClientAddress(ip)) = client {
                if let Ok(value) = MetadataValue::try_from(ip.to_string()) {
                    r.metadata_mut().insert(CLIENT_ADDRESS_HEADER, value);
                }
            }
            s.tenancy.login(r).await
        })
        .await?;
        Ok(pair.into())
    }

    /// Trades a refresh token for a new session (the old refresh token is spent).
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        let body = pb::RefreshRequest { refresh_token };
        let pair = call_without_token(ctx, body, rpc!(tenancy.refresh)).await?;
        Ok(pair.into())
    }

    /// Revokes a refresh token. True once it can no longer be used.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        let body = pb::LogoutRequest { refresh_token };
        call_without_token(ctx, body, rpc!(tenancy.logout)).await?;
        Ok(true)
    }
}
