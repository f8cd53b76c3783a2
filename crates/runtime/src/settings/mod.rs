//! Layered, typed settings: built-in defaults (each section's `Default`), then an
//! optional TOML file, then `DEEDLOG__SECTION__KEY` environment variables, then
//! command-line overrides; finally [`Settings::validate`]. An invalid value stops
//! start-up with a message that names the key and what is allowed.

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

mod gateway;
mod kafka;
mod privacy;
mod projector;
mod redact;
mod sealing;
mod services;
mod telemetry;
pub use gateway::{GatewaySettings, WebhookProvider};
pub use kafka::KafkaSettings;
pub use privacy::PrivacySettings;
pub use projector::{ProjectorSettings, ProjectorSource};
pub use sealing::SealingSettings;
pub use services::{AuthSettings, Environment, PublicKey, ServicesSettings};
pub use telemetry::TelemetrySettings;

/// Everything a deedlog process can be told.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub telemetry: TelemetrySettings,
    pub subscription: SubscriptionSettings,
    pub auth: AuthSettings,
    pub services: ServicesSettings,
    pub projector: ProjectorSettings,
    pub gateway: GatewaySettings,
    pub kafka: KafkaSettings,
    pub privacy: PrivacySettings,
    pub sealing: SealingSettings,
}

/// Where the event log lives and how to reach it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user[:password]@host:port/database`; may hold a password.
    #[serde(serialize_with = "redact::url")]
    pub url: SecretString,
    /// The most connections one process opens, all its components together
    /// (divided among them by `deedlog_cluster::budget`).
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    /// Role assumed by application connections (row-level security applies).
    pub app_role: String,
    /// Role assumed by projectors and auditors that read every tenant.
    pub reader_role: String,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/deedlog".into(),
            max_connections: 20,
            acquire_timeout_ms: 5000,
            app_role: "deedlog_app".into(),
            reader_role: "deedlog_log_reader".into(),
        }
    }
}

/// How log lines look and which are kept.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `deedlog_eventstore=debug,info`.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            filter: "info".into(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How subscribers read the log.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscriptionSettings {
    pub batch_size: u32,
    /// Fallback polling when no notification arrives.
    pub poll_interval_ms: u64,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval_ms: 500,
        }
    }
}

/// A setting that is missing, malformed or out of range.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid settings: {0}")]
    Parse(String),
    #[error("invalid setting `{key}` = {value}: {allowed}")]
    Invalid {
        key: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("invalid setting `{key}` = {value}: {unit} from {min} to {max}")]
    OutOfRange {
        key: &'static str,
        value: u64,
        unit: &'static str,
        min: u64,
        max: u64,
    },
    #[error("settings file {path} does not exist")]
    MissingFile { path: String },
}

/// Command-line overrides, the last layer before validation.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub log_format: Option<String>,
    pub log_filter: Option<String>,
    pub projector_source: Option<String>,
}

impl Settings {
    /// Loads defaults → `file` (if given) → `DEEDLOG__…` environment → `overrides`, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, Error> {
        Self::from_figment(Self::figment(file, overrides)?)
    }

    /// The layered sources without the final extraction; tests feed it directly.
    pub fn figment(file: Option<&Path>, overrides: &Overrides) -> Result<Figment, Error> {
        // The defaults are each section's `Default`, filled in by serde for
        // whatever no layer sets.
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(Error::MissingFile {
                    path: path.display().to_string(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("DEEDLOG__").split("__"));
        for (key, value) in [
            ("database.url", &overrides.database_url),
            ("log.format", &overrides.log_format),
            ("log.filter", &overrides.log_filter),
            ("projector.source", &overrides.projector_source),
        ] {
            if let Some(value) = value {
                figment = figment.merge((key, value.clone()));
            }
        }
        Ok(figment)
    }

    /// Extracts and validates settings from any figment.
    pub fn from_figment(figment: Figment) -> Result<Self, Error> {
        let settings: Settings = figment
            .extract()
            .map_err(|e| Error::Parse(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks ranges and shapes that types alone cannot.
    pub fn validate(&self) -> Result<(), Error> {
        let url = self.database.url.expose_secret();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Invalid {
                key: "database.url",
                value: redact::without_password(url),
                allowed: "a URL starting with postgres:// or postgresql://",
            });
        }
        check_ranges(&[
            (
                "database.max_connections",
                self.database.max_connections.into(),
                1,
                1000,
            ),
            (
                "database.acquire_timeout_ms",
                self.database.acquire_timeout_ms,
                10,
                600_000,
            ),
            (
                "subscription.batch_size",
                self.subscription.batch_size.into(),
                1,
                100_000,
            ),
            (
                "subscription.poll_interval_ms",
                self.subscription.poll_interval_ms,
                1,
                60_000,
            ),
        ])?;
        check_role("database.app_role", &self.database.app_role)?;
        check_role("database.reader_role", &self.database.reader_role)?;

        self.telemetry.validate()?;
        self.auth.validate()?;
        self.services.validate()?;
        self.projector.validate()?;
        self.gateway.validate()?;
        self.kafka.validate()?;
        self.privacy.validate()?;
        self.sealing.validate()?;
        if self.projector.source == ProjectorSource::Kafka && !self.kafka.enabled() {
            return Err(Error::Invalid {
                key: "projector.source",
                value: "\"kafka\"".into(),
                allowed: "\"log\", or \"kafka\" once kafka.brokers names the brokers",
            });
        }
        Ok(())
    }

    /// The database URL with any password replaced, fit for logs and `config check`.
    pub fn redacted_database_url(&self) -> String {
        redact::without_password(self.database.url.expose_secret())
    }

    /// The effective settings as TOML, secrets redacted (`deedlog config
    /// check`). Unset optional keys are left out: TOML has no null.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// "`what` at <the redacted URL>", the context of a database error.
    pub fn at_database(&self, what: &str) -> String {
        format!("{what} at {}", self.redacted_database_url())
    }
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }
}

impl SubscriptionSettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

/// `check_range` over a section's table of `(key, value, min, max)`, in
/// order: one line per ranged setting.
pub(crate) fn check_ranges(ranges: &[(&'static str, u64, u64, u64)]) -> Result<(), Error> {
    ranges
        .iter()
        .try_for_each(|&(key, value, min, max)| check_range(key, value, min, max))
}

/// Refuses `value` outside `min..=max`, naming the range in the unit the
/// key's suffix gives (`_ms`, `_s`, `_bytes`), so a new ranged setting
/// needs no message of its own.
pub(crate) fn check_range(key: &'static str, value: u64, min: u64, max: u64) -> Result<(), Error> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let unit = if key.ends_with("_ms") {
        "milliseconds"
    } else if key.ends_with("_s") {
        "seconds"
    } else if key.ends_with("_bytes") {
        "bytes"
    } else if key.contains(".rate_limit_") {
        "requests per minute"
    } else {
        "a whole number"
    };
    Err(Error::OutOfRange {
        key,
        value,
        unit,
        min,
        max,
    })
}

/// A metrics listener: a socket address, or empty for none.
pub(crate) fn check_listen(key: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    Err(Error::Invalid {
        key,
        value: format!("{value:?}"),
        allowed: "an address such as 127.0.0.1:9464, or empty for none",
    })
}

fn check_role(key: &'static str, role: &str) -> Result<(), Error> {
    let valid = role
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && role.len() <= 63
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        return Ok(());
    }
    Err(Error::Invalid {
        key,
        value: format!("{role:?}"),
        allowed: "a PostgreSQL role name: lowercase letters, digits and '_', at most 63 characters",
    })
}

/// Turns figment's error into one line naming the key, the value and what was expected.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let detail = match &e.kind {
                figment::error::Kind::UnknownVariant(found, expected) => format!(
                    "unknown value {found:?}; allowed values: {}",
                    expected.join(", ")
                ),
                figment::error::Kind::UnknownField(found, expected) => format!(
                    "unknown key {found:?}; known keys here: {}",
                    expected.join(", ")
                ),
                other => other.to_string(),
            };
            if key.is_empty() {
                detail
            } else {
                format!("`{key}`: {detail}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod tests;
