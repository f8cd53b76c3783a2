//! Settings of the command services and of the tokens they accept.

use super::{check_ranges, Error};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Which rules apply to missing secrets: development generates them, production refuses to start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

/// How access tokens are signed and checked.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_s: u64,
    pub refresh_ttl_s: u64,
    pub invitation_ttl_s: u64,
    /// The Ed25519 private key (PKCS#8 PEM) tenancy signs with; generated in development when absent.
    #[serde(serialize_with = "super::redact::secret")]
    pub signing_key: Option<SecretString>,
    /// A file holding that key, instead of the key itself.
    pub signing_key_file: Option<String>,
    /// The key id written into tokens; derived from the public key when absent.
    pub kid: Option<String>,
    /// Public keys to verify with (e.g. during key rotation); when empty,
    /// services ask tenancy for its keys at start-up.
    pub public_keys: Vec<PublicKey>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "deedlog".into(),
            audience: "deedlog".into(),
            access_ttl_s: 900,
            refresh_ttl_s: 2_592_000,
            invitation_ttl_s: 604_800,
            signing_key: None,
            signing_key_file: None,
            kid: None,
            public_keys: Vec::new(),
        }
    }
}

/// A verification key and its id.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    pub kid: String,
    /// SubjectPublicKeyInfo PEM.
    pub pem: String,
}

impl AuthSettings {
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_s)
    }

    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_ttl_s)
    }

    pub fn invitation_ttl(&self) -> Duration {
        Duration::from_secs(self.invitation_ttl_s)
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        for (key, value) in [
            ("auth.issuer", &self.issuer),
            ("auth.audience", &self.audience),
        ] {
            if value.trim().is_empty() {
                return Err(Error::Invalid {
                    key,
                    value: format!("{value:?}"),
                    allowed: "a non-empty name",
                });
            }
        }
        check_ranges(&[
            ("auth.access_ttl_s", self.access_ttl_s, 30, 86_400),
            ("auth.refresh_ttl_s", self.refresh_ttl_s, 60, 31_536_000),
            (
                "auth.invitation_ttl_s",
                self.invitation_ttl_s,
                60,
                2_592_000,
            ),
        ])?;
        if self.signing_key.is_some() && self.signing_key_file.is_some() {
            return Err(Error::Invalid {
                key: "auth.signing_key_file",
                value: "set together with auth.signing_key".to_owned(),
                allowed: "one of auth.signing_key or auth.signing_key_file",
            });
        }
        Ok(())
    }
}

/// Where each command service listens and how they reach each other.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServicesSettings {
    pub tenancy_listen: SocketAddr,
    pub properties_listen: SocketAddr,
    pub deals_listen: SocketAddr,
    pub communications_listen: SocketAddr,
    /// Where the command services of this process serve `/metrics`
    /// (Prometheus text, one label per service); empty: nowhere.
    pub metrics_listen: String,
    /// Where the other services reach tenancy when it runs in another process.
    pub tenancy_url: String,
    /// How long a service reuses a tenant's status, modules and settings
    /// (suspension and modules take effect within this time).
    pub tenant_cache_ttl_ms: u64,
    /// Attempts at a command that lost a race, when the caller gave no expected version.
    pub conflict_retries: u32,
    /// Records whose last state each process keeps to save a read per
    /// command (ADR 0010); 0 reads every record afresh.
    pub state_cache_records: usize,
    /// Most commands whose appends share one transaction (group commit,
    /// ADRs 0040 and 0043); 1 appends each alone.
    pub group_commit_batch: usize,
    /// Batches of appends in flight at once, each on a connection of its
    /// own taken from the services' share of the connection budget.
    pub group_commit_in_flight: usize,
    /// Failed logins one client address may make within
    /// `login_failure_window_s` before its logins are refused for a while.
    pub login_failures_per_address: u32,
    pub login_failure_window_s: u64,
    /// Peers (the gateway) whose `x-deedlog-client-addr` header tenancy
    /// believes when it counts failed logins by client address.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ServicesSettings {
    fn default() -> Self {
        let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
        Self {
            tenancy_listen: local(7101),
            properties_listen: local(7102),
            deals_listen: local(7103),
            communications_listen: local(7104),
            metrics_listen: "127.0.0.1:9466".into(),
            tenancy_url: "http://127.0.0.1:7101".into(),
            tenant_cache_ttl_ms: 1000,
            conflict_retries: 5,
            state_cache_records: 10_000,
            group_commit_batch: 64,
            group_commit_in_flight: 2,
            login_failures_per_address: 10,
            login_failure_window_s: 60,
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
        }
    }
}

impl ServicesSettings {
    pub fn tenant_cache_ttl(&self) -> Duration {
        Duration::from_millis(self.tenant_cache_ttl_ms)
    }

    pub fn login_failure_window(&self) -> Duration {
        Duration::from_secs(self.login_failure_window_s)
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        if !(self.tenancy_url.starts_with("http://") || self.tenancy_url.starts_with("https://")) {
            return Err(Error::Invalid {
                key: "services.tenancy_url",
                value: format!("{:?}", self.tenancy_url),
                allowed: "a URL starting with http:// or https://",
            });
        }
        super::check_listen("services.metrics_listen", &self.metrics_listen)?;
        check_ranges(&[
            (
                "services.tenant_cache_ttl_ms",
                self.tenant_cache_ttl_ms,
                0,
                60_000,
            ),
            (
                "services.conflict_retries",
                self.conflict_retries.into(),
                0,
                20,
            ),
            (
                "services.login_failures_per_address",
                self.login_failures_per_address.into(),
                1,
                100_000,
            ),
            (
                "services.login_failure_window_s",
                self.login_failure_window_s,
                1,
                86_400,
            ),
            (
                "services.state_cache_records",
                self.state_cache_records as u64, // usize is at most 64 bits
                0,
                1_000_000,
            ),
            (
                "services.group_commit_batch",
                self.group_commit_batch as u64, // usize is at most 64 bits
                1,
                1_000,
            ),
            (
                "services.group_commit_in_flight",
                self.group_commit_in_flight as u64, // usize is at most 64 bits
                1,
                16,
            ),
        ])?;
        Ok(())
    }
}

#[cfg(test)]
// figment's Jail closures return its large error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use crate::settings::{Overrides, Settings};
    use figment::Jail;

    fn refused(key: &str, value: &str) -> String {
        let mut message = String::new();
        Jail::expect_with(|jail| {
            jail.set_env(key, value);
            message = Settings::load(None, &Overrides::default())
                .expect_err("refused")
                .to_string();
            Ok(())
        });
        message
    }

    #[test]
    fn auth_and_services_values_are_checked_naming_the_key() {
        for (env, key, allowed) in [
            (
                "DEEDLOG__AUTH__ACCESS_TTL_S",
                "auth.access_ttl_s",
                "30 to 86400",
            ),
            ("DEEDLOG__AUTH__ISSUER", "auth.issuer", "non-empty"),
            (
                "DEEDLOG__SERVICES__TENANCY_URL",
                "services.tenancy_url",
                "http://",
            ),
            (
                "DEEDLOG__SERVICES__CONFLICT_RETRIES",
                "services.conflict_retries",
                "0 to 20",
            ),
            (
                "DEEDLOG__SERVICES__LOGIN_FAILURES_PER_ADDRESS",
                "services.login_failures_per_address",
                "1 to 100000",
            ),
            (
                "DEEDLOG__SERVICES__LOGIN_FAILURE_WINDOW_S",
                "services.login_failure_window_s",
                "1 to 86400",
            ),
        ] {
            let value = if key == "auth.issuer" {
                " "
            } else if key == "services.tenancy_url" {
                "tenancy:7101"
            } else {
                "99999999"
            };
            let message = refused(env, value);
            assert!(
                message.contains(key) && message.contains(allowed),
                "{message}"
            );
        }
        let message = refused("DEEDLOG__SERVICES__DEALS_LISTEN", "not an address");
        assert!(message.contains("services.deals_listen"), "{message}");
        let message = refused("DEEDLOG__ENVIRONMENT", "staging");
        assert!(message.contains("development, production"), "{message}");
    }
}
