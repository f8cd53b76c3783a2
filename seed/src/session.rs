//! A signed-in user whose access token stays fresh for a long run: it is
//! refreshed a minute before it expires, and renewed when a service answers
//! UNAUTHENTICATED (a refresh, or a new login when the refresh token is no
//! longer good).

use anyhow::Context;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use std::fmt;
use tonic::transport::Channel;

/// Seconds before expiry at which a token is refreshed (at most; a quarter
/// of its lifetime for short-lived ones).
const REFRESH_AHEAD_S: i64 = 60;

pub struct Session {
    tenancy: TenancyServiceClient<Channel>,
    slug: String,
    email: String,
    password: String,
    tokens: tokio::sync::Mutex<Tokens>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("slug", &self.slug)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

struct Tokens {
    access: String,
    refresh: String,
    /// When to refresh: shortly before the access token expires.
    renew_at_unix: i64,
}

impl From<pb::TokenPair> for Tokens {
    fn from(pair: pb::TokenPair) -> Self {
        let lifetime = pair.access_expires_at_unix - now_unix();
        Self {
            access: pair.access_token,
            refresh: pair.refresh_token,
            renew_at_unix: pair.access_expires_at_unix - REFRESH_AHEAD_S.min(lifetime / 4),
        }
    }
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Session {
    /// Signs `email` in to tenant `slug`.
    pub async fn login(
        tenancy: &TenancyServiceClient<Channel>,
        slug: &str,
        email: &str,
        password: &str,
    ) -> anyhow::Result<Self> {
        let tokens = login(tenancy, slug, email, password).await?;
        Ok(Self {
            tenancy: tenancy.clone(),
            slug: slug.to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            tokens: tokio::sync::Mutex::new(tokens),
        })
    }

    /// A current access token, refreshed first when it is about to expire.
    pub async fn token(&self) -> anyhow::Result<String> {
        let mut tokens = self.tokens.lock().await;
        if now_unix() >= tokens.renew_at_unix {
            *tokens = self.renewed(&tokens).await?;
        }
        Ok(tokens.access.clone())
    }

    /// Renews the tokens after `stale` was refused, unless another request
    /// already did.
    pub async fn renew(&self, stale: &str) -> anyhow::Result<()> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access == stale {
            *tokens = self.renewed(&tokens).await?;
        }
        Ok(())
    }

    async fn renewed(&self, tokens: &Tokens) -> anyhow::Result<Tokens> {
        let refreshed = self
            .tenancy
            .clone()
            .refresh(pb::RefreshRequest {
                refresh_token: tokens.refresh.clone(),
            })
            .await;
        match refreshed {
            Ok(pair) => Ok(pair.into_inner().into()),
            Err(_) => login(&self.tenancy, &self.slug, &self.email, &self.password).await,
        }
    }
}

async fn login(
    tenancy: &TenancyServiceClient<Channel>,
    slug: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<Tokens> {
    let pair = tenancy
        .clone()
        .login(pb::LoginRequest {
            tenant_slug: slug.to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
        })
        .await
        .with_context(|| format!("sign in as {email} to tenant {slug}"))?
        .into_inner();
    Ok(pair.into())
}
