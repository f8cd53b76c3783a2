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
mod projector;
mod redact;
mod services;
mod telemetry;
pub use gateway::{GatewaySettings, WebhookProvider};
pub use kafka::KafkaSettings;
pub use projector::{ProjectorSettings, ProjectorSource};
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
        check_range(
            "database.max_connections",
            self.database.max_connections.into(),
            1,
            1000,
        )?;
        check_range(
            "database.acquire_timeout_ms",
            self.database.acquire_timeout_ms,
            10,
            600_000,
        )?;
        check_role("database.app_role", &self.database.app_role)?;
        check_role("database.reader_role", &self.database.reader_role)?;
        check_range(
            "subscription.batch_size",
            self.subscription.batch_size.into(),
            1,
            100_000,
        )?;
        check_range(
            "subscription.poll_interval_ms",
            self.subscription.poll_interval_ms,
            1,
            60_000,
        )?;
        self.telemetry.validate()?;
        self.auth.validate()?;
        self.services.validate()?;
        self.projector.validate()?;
        self.gateway.validate()?;
        self.kafka.validate()?;
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
// figment's Jail closures return its large error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_in_jail() -> Result<Settings, Error> {
        Settings::load(None, &Overrides::default())
    }

    #[test]
    fn defaults_are_valid() {
        Jail::expect_with(|_| {
            let settings = load_in_jail().expect("defaults load");
            assert_eq!(settings.database.max_connections, 20);
            assert_eq!(settings.log.format, LogFormat::Pretty);
            Ok(())
        });
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "deedlog.toml",
                "[database]\nmax_connections = 4\n[log]\nfilter = \"debug\"\n",
            )?;
            jail.set_env("DEEDLOG__DATABASE__MAX_CONNECTIONS", "8");
            let overrides = Overrides {
                log_format: Some("json".into()),
                ..Overrides::default()
            };
            let settings =
                Settings::load(Some(Path::new("deedlog.toml")), &overrides).expect("loads");
            assert_eq!(settings.database.max_connections, 8, "env beats file");
            assert_eq!(settings.log.filter, "debug", "file beats defaults");
            assert_eq!(settings.log.format, LogFormat::Json, "flags beat env");
            Ok(())
        });
    }

    #[test]
    fn unknown_enum_value_names_key_and_allowed_values() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__LOG__FORMAT", "xml");
            let message = load_in_jail().expect_err("xml refused").to_string();
            assert!(message.contains("`log.format`"), "{message}");
            assert!(message.contains("pretty, json"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn projector_settings_are_checked() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__PROJECTOR__BATCH_SIZE", "0");
            let message = load_in_jail().expect_err("0 refused").to_string();
            assert!(message.contains("projector.batch_size"), "{message}");
            assert!(message.contains("1 to 100000"), "{message}");
            jail.set_env("DEEDLOG__PROJECTOR__BATCH_SIZE", "500");
            jail.set_env("DEEDLOG__PROJECTOR__METRICS_LISTEN", "metrics");
            let message = load_in_jail().expect_err("not an address").to_string();
            assert!(message.contains("projector.metrics_listen"), "{message}");
            jail.set_env("DEEDLOG__PROJECTOR__METRICS_LISTEN", "");
            jail.set_env("DEEDLOG__PROJECTOR__BACKOFF_MIN_MS", "2000");
            jail.set_env("DEEDLOG__PROJECTOR__BACKOFF_MAX_MS", "1000");
            let message = load_in_jail().expect_err("max below min").to_string();
            assert!(message.contains("projector.backoff_max_ms"), "{message}");
            jail.set_env("DEEDLOG__PROJECTOR__BACKOFF_MAX_MS", "5000");
            let settings = load_in_jail().expect("valid");
            assert_eq!(settings.projector.batch_size, 500);
            assert_eq!(settings.projector.backoff_max_ms, 5000);
            Ok(())
        });
    }

    #[test]
    fn telemetry_and_metrics_settings_are_checked() {
        Jail::expect_with(|jail| {
            let settings = load_in_jail().expect("defaults");
            assert!(!settings.telemetry.exporting(), "no spans leave by default");
            for (variable, value, named, allowed) in [
                (
                    "DEEDLOG__TELEMETRY__OTLP_ENDPOINT",
                    "collector:4317",
                    "telemetry.otlp_endpoint",
                    "http:// or https://",
                ),
                (
                    "DEEDLOG__TELEMETRY__SERVICE_NAME",
                    " ",
                    "telemetry.service_name",
                    "a name",
                ),
                (
                    "DEEDLOG__TELEMETRY__SAMPLE_RATIO",
                    "1.5",
                    "telemetry.sample_ratio",
                    "0.0 to 1.0",
                ),
                (
                    "DEEDLOG__TELEMETRY__EXPORT_INTERVAL_MS",
                    "5",
                    "telemetry.export_interval_ms",
                    "10 to 60000",
                ),
                (
                    "DEEDLOG__SERVICES__METRICS_LISTEN",
                    "everywhere",
                    "services.metrics_listen",
                    "an address",
                ),
            ] {
                jail.set_env(variable, value);
                let message = load_in_jail().expect_err(variable).to_string();
                assert!(message.contains(named), "{message}");
                assert!(message.contains(allowed), "{message}");
                jail.clear_env();
            }
            jail.set_env("DEEDLOG__TELEMETRY__OTLP_ENDPOINT", "http://collector:4317");
            jail.set_env("DEEDLOG__TELEMETRY__SAMPLE_RATIO", "0.25");
            let settings = load_in_jail().expect("valid");
            assert!(settings.telemetry.exporting());
            assert_eq!(settings.telemetry.sample_ratio, 0.25);
            Ok(())
        });
    }

    #[test]
    fn kafka_settings_are_checked() {
        Jail::expect_with(|jail| {
            let settings = load_in_jail().expect("defaults");
            assert!(!settings.kafka.enabled(), "Kafka is off by default");
            for (key, value, named, allowed) in [
                (
                    "DEEDLOG__KAFKA__BROKERS",
                    "kafka",
                    "kafka.brokers",
                    "host:port",
                ),
                (
                    "DEEDLOG__KAFKA__TOPIC",
                    "deedlog events",
                    "kafka.topic",
                    "letters, digits",
                ),
                (
                    "DEEDLOG__KAFKA__PARTITIONS",
                    "0",
                    "kafka.partitions",
                    "1 to 10000",
                ),
                ("DEEDLOG__KAFKA__GROUP_ID", "", "kafka.group_id", "1 to 249"),
                (
                    "DEEDLOG__KAFKA__RELAY_METRICS_LISTEN",
                    "metrics",
                    "kafka.relay_metrics_listen",
                    "127.0.0.1:9464",
                ),
                (
                    "DEEDLOG__KAFKA__PRODUCER",
                    "{\"enable.idempotence\" = \"false\"}",
                    "kafka.producer",
                    "enable.idempotence = true",
                ),
            ] {
                jail.set_env(key, value);
                let message = load_in_jail().expect_err("refused").to_string();
                assert!(message.contains(named), "{key}: {message}");
                assert!(message.contains(allowed), "{key}: {message}");
                jail.clear_env();
            }
            jail.set_env("DEEDLOG__PROJECTOR__SOURCE", "kafka");
            let message = load_in_jail().expect_err("no brokers").to_string();
            assert!(message.contains("projector.source"), "{message}");
            assert!(message.contains("kafka.brokers"), "{message}");
            jail.set_env("DEEDLOG__KAFKA__BROKERS", "127.0.0.1:9092,kafka-2:9092");
            jail.set_env("DEEDLOG__KAFKA__PRODUCER", "{\"linger.ms\" = \"20\"}");
            let settings = load_in_jail().expect("valid");
            assert!(settings.kafka.enabled());
            assert_eq!(settings.kafka.producer["linger.ms"], "20");
            Ok(())
        });
    }

    /// The keys `config check` prints, by the same `Serialize` impl. Walked
    /// as JSON, where an unset optional key is `null`; the TOML dump leaves
    /// it out. A table is walked into; anything else (a value, an array,
    /// an empty table such as `kafka.producer`) is a key.
    fn key_paths(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(table) if !table.is_empty() => {
                for (key, inner) in table {
                    key_paths(&format!("{prefix}{key}."), inner, out);
                }
            }
            _ => out.push(prefix.trim_end_matches('.').to_owned()),
        }
    }

    #[test]
    fn the_configuration_reference_names_every_key_and_no_other() {
        let mut settings = None;
        Jail::expect_with(|_| {
            settings = Some(load_in_jail().expect("defaults"));
            Ok(())
        });
        let dump = serde_json::to_value(settings.expect("loaded")).expect("settings serialise");
        let mut expected = Vec::new();
        key_paths("", &dump, &mut expected);
        // A key is documented by a table row that starts with it in backticks.
        let reference = include_str!("../../../../docs/configuration.md");
        let documented: Vec<&str> = reference
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        for key in &expected {
            assert!(
                documented.contains(&key.as_str()),
                "docs/configuration.md lacks a row `| `{key}` | default | meaning |`"
            );
        }
        for key in &documented {
            assert!(
                expected.iter().any(|k| k == key),
                "docs/configuration.md names `{key}`, which is no setting"
            );
        }
    }

    #[test]
    fn the_toml_dump_reads_back_as_the_same_settings() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__KAFKA__PRODUCER", "{\"linger.ms\" = \"20\"}");
            jail.set_env("DEEDLOG__AUTH__KID", "k1");
            let settings = load_in_jail().expect("valid");
            let dump = settings.to_toml().expect("prints");
            jail.clear_env();
            let again = Settings::from_figment(Figment::from(Toml::string(&dump)))
                .unwrap_or_else(|e| panic!("{e}\n{dump}"));
            assert_eq!(again.to_toml().expect("prints"), dump);
            assert_eq!(again.kafka.producer["linger.ms"], "20");
            assert_eq!(again.auth.kid.as_deref(), Some("k1"));
            Ok(())
        });
    }

    #[test]
    fn secrets_print_as_the_marker() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__DATABASE__URL", "postgres://app:s3cret@db/deedlog");
            jail.set_env("DEEDLOG__AUTH__SIGNING_KEY", "private-key-pem");
            jail.set_env("DEEDLOG__GATEWAY__WEBHOOKS__MAILER__SECRET", "whsec");
            jail.set_env("DEEDLOG__GATEWAY__WEBHOOKS__MAILER__TENANT_SLUG", "berg");
            jail.set_env(
                "DEEDLOG__GATEWAY__WEBHOOKS__MAILER__EMAIL",
                "m@berg.example",
            );
            jail.set_env("DEEDLOG__GATEWAY__WEBHOOKS__MAILER__PASSWORD", "hunter2");
            let dump = load_in_jail().expect("valid").to_toml().expect("prints");
            for secret in ["s3cret", "private-key-pem", "whsec", "hunter2"] {
                assert!(!dump.contains(secret), "{secret} shown:\n{dump}");
            }
            assert!(
                dump.contains("url = \"postgres://app:***@db/deedlog\""),
                "{dump}"
            );
            assert!(dump.contains("signing_key = \"***\""), "{dump}");
            assert!(dump.contains("[gateway.webhooks.mailer]"), "{dump}");
            assert!(dump.contains("tenant_slug = \"berg\""), "{dump}");
            Ok(())
        });
    }

    #[test]
    fn gateway_settings_are_checked() {
        Jail::expect_with(|jail| {
            for (key, value, named, allowed) in [
                (
                    "DEEDLOG__GATEWAY__DEALS_URL",
                    "deals:7103",
                    "gateway.deals_url",
                    "http://",
                ),
                (
                    "DEEDLOG__GATEWAY__CORS_ORIGINS",
                    "[\"https://app.example.com/\"]",
                    "gateway.cors_origins",
                    "no trailing slash",
                ),
                (
                    "DEEDLOG__GATEWAY__MAX_DEPTH",
                    "1",
                    "gateway.max_depth",
                    "2 to 64",
                ),
                (
                    "DEEDLOG__GATEWAY__MAX_BODY_BYTES",
                    "10",
                    "gateway.max_body_bytes",
                    "1024 to",
                ),
                (
                    "DEEDLOG__GATEWAY__RATE_LIMIT_PER_IP",
                    "0",
                    "gateway.rate_limit_per_ip",
                    "1 to",
                ),
            ] {
                jail.set_env(key, value);
                let message = load_in_jail().expect_err("refused").to_string();
                assert!(message.contains(named), "{message}");
                assert!(message.contains(allowed), "{message}");
                jail.clear_env();
            }
            jail.set_env("DEEDLOG__GATEWAY__WEBHOOKS__Mail_Er__SECRET", "s");
            let message = load_in_jail()
                .expect_err("a missing key refused")
                .to_string();
            assert!(message.contains("tenant_slug"), "{message}");
            jail.clear_env();
            jail.set_env(
                "DEEDLOG__GATEWAY__CORS_ORIGINS",
                "[\"https://app.example.com\"]",
            );
            let settings = load_in_jail().expect("valid");
            assert_eq!(settings.gateway.cors_origins, ["https://app.example.com"]);
            Ok(())
        });
    }

    #[test]
    fn unknown_key_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__DATABASE__MAX_CONECTIONS", "3");
            let message = load_in_jail().expect_err("typo refused").to_string();
            assert!(message.contains("max_conections"), "{message}");
            assert!(message.contains("max_connections"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_range() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__DATABASE__MAX_CONNECTIONS", "0");
            let message = load_in_jail().expect_err("0 refused").to_string();
            assert!(message.contains("database.max_connections"), "{message}");
            assert!(message.contains("1 to 1000"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn non_numeric_value_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__SUBSCRIPTION__BATCH_SIZE", "lots");
            let message = load_in_jail().expect_err("text refused").to_string();
            assert!(message.contains("subscription.batch_size"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn bad_url_and_role_are_refused_without_leaking_the_password() {
        Jail::expect_with(|jail| {
            jail.set_env("DEEDLOG__DATABASE__URL", "mysql://app:hunter2@db/x");
            let message = load_in_jail().expect_err("mysql refused").to_string();
            assert!(message.contains("database.url"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
            jail.set_env("DEEDLOG__DATABASE__URL", "postgres://a@b/c");
            jail.set_env("DEEDLOG__DATABASE__APP_ROLE", "Robert'); DROP");
            let message = load_in_jail().expect_err("role refused").to_string();
            assert!(message.contains("database.app_role"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn missing_settings_file_is_named() {
        Jail::expect_with(|_| {
            let error = Settings::load(Some(Path::new("nope.toml")), &Overrides::default())
                .expect_err("missing file refused");
            assert!(error.to_string().contains("nope.toml"));
            Ok(())
        });
    }

    #[test]
    fn password_is_redacted() {
        Jail::expect_with(|jail| {
            jail.set_env(
                "DEEDLOG__DATABASE__URL",
                "postgres://app:s3cret@db:5432/deedlog",
            );
            let settings = load_in_jail().expect("loads");
            assert_eq!(
                settings.redacted_database_url(),
                "postgres://app:***@db:5432/deedlog"
            );
            Ok(())
        });
    }
}
