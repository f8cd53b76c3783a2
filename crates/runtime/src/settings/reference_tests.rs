//! Tests that hold `docs/configuration.md` and `deedlog config check` to
//! the settings: every key documented with its default, secrets never
//! printed, and the printed TOML read back as the same settings.

// figment's Jail closures return its large error type; that is its API, not ours.
#![allow(clippy::result_large_err)]

use super::tests::{load_in_jail, refusal};
use super::Settings;
use figment::providers::{Format, Toml};
use figment::{Figment, Jail};

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

/// The defaults as `config check` serialises them, as JSON.
fn defaults_dump() -> serde_json::Value {
    let mut settings = None;
    Jail::expect_with(|_| {
        settings = Some(load_in_jail().expect("defaults"));
        Ok(())
    });
    serde_json::to_value(settings.expect("loaded")).expect("settings serialise")
}

#[test]
fn the_configuration_reference_names_every_key_and_no_other() {
    let dump = defaults_dump();
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

/// The default as the reference's second column writes it: `20`,
/// `deedlog`, `["127.0.0.1", "::1"]`, or the words "empty" and "none".
fn as_documented(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "none".to_owned(),
        serde_json::Value::String(s) if s.is_empty() => "empty".to_owned(),
        serde_json::Value::String(s) => format!("`{s}`"),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(ToString::to_string).collect();
            format!("`[{}]`", items.join(", "))
        }
        serde_json::Value::Object(table) if table.is_empty() => "`{}`".to_owned(),
        other => format!("`{other}`"),
    }
}

#[test]
fn the_configuration_reference_gives_each_default() {
    let dump = defaults_dump();
    let reference = include_str!("../../../../docs/configuration.md");
    let mut checked = 0;
    for row in reference.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let key = cells[0].trim_start_matches("| ").trim_matches('`');
        let pointer = format!("/{}", key.replace('.', "/"));
        let Some(value) = dump.pointer(&pointer) else {
            continue; // a key the other test reports
        };
        let default = as_documented(value);
        // Words after the default say why (`empty (Kafka off)`); a
        // default described in words only is left to the reader.
        if cells[1] == default || cells[1].starts_with(&format!("{default} (")) {
            checked += 1;
        } else {
            assert!(
                !cells[1].starts_with('`') && !["empty", "none"].contains(&cells[1]),
                "docs/configuration.md gives `{key}` the default {}, the code {default}",
                cells[1]
            );
        }
    }
    // Guards the row parsing: all but the few defaults told in words.
    assert!(checked >= 70, "checked only {checked} defaults");
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

/// The first range a row's meaning gives (`1–1000; …`, `requests per
/// minute, 1–10000000`), as the two bounds' text.
fn documented_range(meaning: &str) -> Option<(&str, &str)> {
    let (low, high) = meaning.split_once('–')?;
    let low = low
        .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    let high = high
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    (!low.is_empty() && !high.is_empty()).then_some((low, high))
}

/// A value just outside a bound: one past it, or half past it for a ratio.
fn beyond(bound: &str, step: f64) -> String {
    match bound.parse::<i64>() {
        Ok(n) => (n + step as i64).to_string(),
        Err(_) => (bound.parse::<f64>().expect("a number") + step / 2.0).to_string(),
    }
}

#[test]
fn every_documented_range_is_enforced() {
    let reference = include_str!("../../../../docs/configuration.md");
    let mut checked = 0;
    for row in reference.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let key = cells[0].trim_start_matches("| ").trim_matches('`');
        let Some((low, high)) = cells.get(2).and_then(|m| documented_range(m)) else {
            continue;
        };
        let mut outside = vec![beyond(high, 1.0)];
        if low.parse::<f64>().expect("a number") > 0.0 {
            outside.push(beyond(low, -1.0));
        }
        for value in outside {
            Jail::expect_with(|jail| {
                refusal(jail, key, &value);
                Ok(())
            });
        }
        checked += 1;
    }
    assert!(checked >= 30, "checked only {checked} ranges");
}
