//! Signing in and out, through the tenancy service: `login`, `refresh`,
//! `logout` are the only operations that need no access token.

use super::command::call_without_token;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use deedlog_proto::tenancy::v1 as pb;

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
    /// Signs in with the tenant's slug, an email and a password. Wrong
    /// credentials, locked, deactivated or unknown users all get the same
    /// UNAUTHENTICATED answer.
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
        let pair = call_without_token(
            ctx,
            body,
            |mut s, r| async move { s.tenancy.login(r).await },
        )
        .await?;
        Ok(pair.into())
    }

    /// Trades a refresh token for a new session (the old refresh token is spent).
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        let body = pb::RefreshRequest { refresh_token };
        let pair = call_without_token(
            ctx,
            body,
            |mut s, r| async move { s.tenancy.refresh(r).await },
        )
        .await?;
        Ok(pair.into())
    }

    /// Revokes a refresh token. True once it can no longer be used.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        let body = pb::LogoutRequest { refresh_token };
        call_without_token(
            ctx,
            body,
            |mut s, r| async move { s.tenancy.logout(r).await },
        )
        .await?;
        Ok(true)
    }
}
