//! Tests of loading: the layers, their order, and the refusals that name
//! the key and what it allows.

// figment's Jail closures return its large error type; that is its API, not ours.
#![allow(clippy::result_large_err)]

use super::*;
use figment::Jail;

pub(super) fn load_in_jail() -> Result<Settings, Error> {
    Settings::load(None, &Overrides::default())
}

/// The environment variable that sets `key`: `projector.batch_size` is
/// `DEEDLOG__PROJECTOR__BATCH_SIZE`.
pub(super) fn env_var(key: &str) -> String {
    format!("DEEDLOG__{}", key.replace('.', "__").to_uppercase())
}

/// Loads with `key` set to `value` alone and returns the refusal, which
/// must name the key.
pub(super) fn refusal(jail: &mut Jail, key: &str, value: &str) -> String {
    jail.set_env(env_var(key), value);
    let refused = load_in_jail();
    jail.clear_env();
    let message = match refused {
        Ok(_) => panic!("{key} = {value:?} was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains(key), "{key} = {value:?}: {message}");
    message
}

/// Each `(key, value, allowed)`: refused, naming the key and what it allows.
fn refuses(jail: &mut Jail, rows: &[(&str, &str, &str)]) {
    for &(key, value, allowed) in rows {
        let message = refusal(jail, key, value);
        assert!(message.contains(allowed), "{key} = {value:?}: {message}");
    }
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
        let settings = Settings::load(Some(Path::new("deedlog.toml")), &overrides).expect("loads");
        assert_eq!(settings.database.max_connections, 8, "env beats file");
        assert_eq!(settings.log.filter, "debug", "file beats defaults");
        assert_eq!(settings.log.format, LogFormat::Json, "flags beat env");
        Ok(())
    });
}

#[test]
fn unknown_enum_value_names_key_and_allowed_values() {
    Jail::expect_with(|jail| {
        let message = refusal(jail, "log.format", "xml");
        assert!(message.contains("`log.format`"), "{message}");
        assert!(message.contains("pretty, json"), "{message}");
        Ok(())
    });
}

#[test]
fn projector_settings_are_checked() {
    Jail::expect_with(|jail| {
        refuses(jail, &[("projector.batch_size", "0", "1 to 100000")]);
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
        refuses(
            jail,
            &[
                (
                    "telemetry.otlp_endpoint",
                    "collector:4317",
                    "http:// or https://",
                ),
                ("telemetry.service_name", " ", "a name"),
                ("telemetry.sample_ratio", "1.5", "0.0 to 1.0"),
                ("telemetry.export_interval_ms", "5", "10 to 60000"),
                ("services.metrics_listen", "everywhere", "an address"),
            ],
        );
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
        refuses(
            jail,
            &[
                ("kafka.brokers", "kafka", "host:port"),
                ("kafka.topic", "deedlog events", "letters, digits"),
                ("kafka.partitions", "0", "1 to 10000"),
                ("kafka.group_id", "", "1 to 249"),
                ("kafka.relay_metrics_listen", "metrics", "127.0.0.1:9464"),
                (
                    "kafka.producer",
                    "{\"enable.idempotence\" = \"false\"}",
                    "enable.idempotence = true",
                ),
            ],
        );
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

#[test]
fn gateway_settings_are_checked() {
    Jail::expect_with(|jail| {
        refuses(
            jail,
            &[
                ("gateway.deals_url", "deals:7103", "http://"),
                (
                    "gateway.cors_origins",
                    "[\"https://app.example.com/\"]",
                    "no trailing slash",
                ),
                ("gateway.max_depth", "1", "2 to 64"),
                ("gateway.max_body_bytes", "10", "1024 to"),
                ("gateway.rate_limit_per_ip", "0", "1 to"),
            ],
        );
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
        refuses(jail, &[("database.max_connections", "0", "1 to 1000")]);
        Ok(())
    });
}

#[test]
fn non_numeric_value_is_refused() {
    Jail::expect_with(|jail| {
        refusal(jail, "subscription.batch_size", "lots");
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
