//! Settings of the GraphQL gateway: where it listens, where the command
//! services are, and how it protects itself.

use super::{check_ranges, Error};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    pub listen: SocketAddr,
    /// The command services the mutations go to (tenancy is `services.tenancy_url`).
    pub properties_url: String,
    pub deals_url: String,
    pub communications_url: String,
    /// Origins a browser may call from; empty allows none (same origin only).
    pub cors_origins: Vec<String>,
    /// Serve GraphiQL on `GET /graphql` (development only, by default).
    pub graphiql: bool,
    pub max_body_bytes: u64,
    pub request_timeout_ms: u64,
    pub max_depth: u32,
    pub max_complexity: u32,
    /// Requests per minute one user may make (burst: the same number).
    pub rate_limit_per_user: u32,
    /// Requests per minute from one IP address, signed in or not.
    pub rate_limit_per_ip: u32,
    /// Longest a client may ask a read to wait for the read models (read-your-writes).
    pub max_wait_ms: u64,
    /// Megabytes of query responses kept, each until a read model it may
    /// have read changes (ADR 0041); 0 turns the cache off.
    pub response_cache_mb: u64,
    /// Webhook secrets per provider, e.g. `[gateway.webhooks.mailer] secret = "…"`.
    pub webhooks: BTreeMap<String, WebhookProvider>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            properties_url: "http://127.0.0.1:7102".into(),
            deals_url: "http://127.0.0.1:7103".into(),
            communications_url: "http://127.0.0.1:7104".into(),
            cors_origins: Vec::new(),
            graphiql: true,
            max_body_bytes: 256 << 10,
            request_timeout_ms: 30_000,
            max_depth: 12,
            max_complexity: 2000,
            rate_limit_per_user: 6000,
            rate_limit_per_ip: 12_000,
            max_wait_ms: 10_000,
            response_cache_mb: 64,
            webhooks: BTreeMap::new(),
        }
    }
}

/// One delivery provider account that posts to `/webhooks/<name>`. Its
/// reports become commands of an integration user of one tenant (an agent
/// the tenant's admin invited for it), so the services authorise them like
/// any other command and auditors see who recorded them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookProvider {
    /// The shared HMAC-SHA256 key.
    #[serde(serialize_with = "super::redact::secret")]
    pub secret: SecretString,
    pub tenant_slug: String,
    pub email: String,
    #[serde(serialize_with = "super::redact::secret")]
    pub password: SecretString,
}

impl GatewaySettings {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        for (key, url) in [
            ("gateway.properties_url", &self.properties_url),
            ("gateway.deals_url", &self.deals_url),
            ("gateway.communications_url", &self.communications_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Invalid {
                    key,
                    value: format!("{url:?}"),
                    allowed: "a URL starting with http:// or https://",
                });
            }
        }
        for origin in &self.cors_origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/')
                && http_origin_chars(origin);
            if !ok {
                return Err(Error::Invalid {
                    key: "gateway.cors_origins",
                    value: format!("{origin:?}"),
                    allowed: "origins such as \"https://app.example.com\" (scheme, host, optional port; no path, no trailing slash)",
                });
            }
        }
        check_ranges(&[
            (
                "gateway.max_body_bytes",
                self.max_body_bytes,
                1024,
                64 << 20,
            ),
            (
                "gateway.request_timeout_ms",
                self.request_timeout_ms,
                100,
                600_000,
            ),
            ("gateway.max_depth", self.max_depth.into(), 2, 64),
            (
                "gateway.max_complexity",
                self.max_complexity.into(),
                10,
                1_000_000,
            ),
            (
                "gateway.rate_limit_per_user",
                self.rate_limit_per_user.into(),
                1,
                10_000_000,
            ),
            (
                "gateway.rate_limit_per_ip",
                self.rate_limit_per_ip.into(),
                1,
                10_000_000,
            ),
            ("gateway.max_wait_ms", self.max_wait_ms, 0, 600_000),
            (
                "gateway.response_cache_mb",
                self.response_cache_mb,
                0,
                65_536,
            ),
        ])?;
        for name in self.webhooks.keys() {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(Error::Invalid {
                    key: "gateway.webhooks",
                    value: format!("{name:?}"),
                    allowed: "provider names of lowercase letters, digits and '-'",
                });
            }
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The response cache's size in bytes (0: off).
    pub fn response_cache_bytes(&self) -> u64 {
        self.response_cache_mb << 20
    }

    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.max_wait_ms)
    }
}

fn http_origin_chars(origin: &str) -> bool {
    origin
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '-' | '[' | ']'))
}
