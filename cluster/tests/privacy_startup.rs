//! Start-up refuses a master key it cannot use (ADR 0035): production
//! without one, a malformed one, or one other than the database's; each
//! message names the setting to fix. Each test has a database of its own,
//! created and migrated by the start-up itself and dropped at the end.

use deedlog_cluster::{Cluster, Component};
use deedlog_privacy::MasterKey;
use deedlog_runtime::settings::{Overrides, Settings};
use sqlx::ConnectOptions;
use std::time::{SystemTime, UNIX_EPOCH};

/// A database name nobody else uses, dropped with the value.
struct Database(String);

impl Database {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos();
        Self(format!(
            "deedlog_test_startup_{}_{nanos}",
            std::process::id()
        ))
    }

    fn url(&self) -> String {
        deedlog_testing::admin_options()
            .database(&self.0)
            .to_url_lossy()
            .to_string()
    }

    /// Settings on this database: the environment, and `privacy.*` keys.
    fn settings(&self, environment: &str, privacy: &[(&str, &str)]) -> Settings {
        let overrides = Overrides {
            database_url: Some(self.url()),
            ..Overrides::default()
        };
        let mut figment = Settings::figment(None, &overrides)
            .expect("settings")
            .merge(("environment", environment))
            .merge(("database.max_connections", 8));
        for key in [
            "services.tenancy_listen",
            "services.properties_listen",
            "services.deals_listen",
            "services.communications_listen",
            "services.metrics_listen",
            "gateway.listen",
            "projector.metrics_listen",
        ] {
            figment = figment.merge((key, "127.0.0.1:0"));
        }
        for (key, value) in privacy {
            figment = figment.merge((format!("privacy.{key}"), *value));
        }
        Settings::from_figment(figment).expect("valid settings")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        deedlog_testing::drop_database(&self.0);
    }
}

/// Starts the tenancy service (which appends, so opens the key service),
/// migrating the database first; the error as `deedlog` prints it.
async fn refused(settings: &Settings) -> (String, anyhow::Error) {
    match Cluster::build(settings, &[Component::Tenancy], true).await {
        Ok(cluster) => panic!("start-up succeeded: {cluster:?}"),
        Err(error) => (format!("{error:#}"), error),
    }
}

/// Registers `key` as the database's master key, as a first start-up would.
async fn register(db: &Database, key: &MasterKey) {
    let settings = db.settings("production", &[("master_key", &key.to_base64())]);
    deedlog_cluster::pools::migrate(&settings)
        .await
        .expect("migrate");
    deedlog_cluster::pools::log_reader(&settings)
        .await
        .expect("the key service opens and registers the key");
}

#[tokio::test]
async fn production_without_a_master_key_does_not_start() {
    let db = Database::new();
    let (text, _) = refused(&db.settings("production", &[])).await;
    assert!(text.contains("privacy.master_key"), "{text}");
    assert!(text.contains("production"), "{text}");
    // Development starts the key service with the database's own key.
    let development = db.settings("development", &[]);
    deedlog_cluster::pools::log_reader(&development)
        .await
        .expect("development opens without a key");
}

#[tokio::test]
async fn a_malformed_master_key_does_not_start_and_the_message_names_the_setting() {
    let db = Database::new();
    let key_file = std::env::temp_dir().join(format!("{}-master-key", db.0));
    std::fs::write(&key_file, "not a key\n").expect("write the key file");
    let good = MasterKey::generate().expect("key").to_base64();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("master_key", "c2hvcnQ=")], "privacy.master_key "),
        (
            vec![("master_key", "not base64 at all!")],
            "privacy.master_key ",
        ),
        (
            vec![("master_key_file", key_file.to_str().expect("UTF-8"))],
            "privacy.master_key_file",
        ),
        (
            vec![("master_key", &good), ("previous_master_key", "c2hvcnQ=")],
            "privacy.previous_master_key",
        ),
    ];
    for (privacy, setting) in cases {
        let (text, _) = refused(&db.settings("production", &privacy)).await;
        assert!(text.contains(setting), "{privacy:?}: {text}");
        assert!(text.contains("32 bytes in base64"), "{privacy:?}: {text}");
        assert!(
            !text.contains("not base64 at all"),
            "the value is not echoed: {text}"
        );
    }
    let _ = std::fs::remove_file(&key_file);
}

#[tokio::test]
async fn a_master_key_other_than_the_databases_does_not_start() {
    let db = Database::new();
    let (old, new) = (
        MasterKey::generate().expect("key"),
        MasterKey::generate().expect("key"),
    );
    register(&db, &old).await;

    let (text, error) =
        refused(&db.settings("production", &[("master_key", &new.to_base64())])).await;
    let privacy = error
        .chain()
        .find_map(|e| e.downcast_ref::<deedlog_privacy::Error>())
        .unwrap_or_else(|| panic!("a privacy error: {text}"));
    match privacy {
        deedlog_privacy::Error::WrongMasterKey {
            setting,
            stored,
            given,
        } => {
            assert_eq!(setting, "privacy.master_key");
            assert_eq!(stored, old.id());
            assert_eq!(given, new.id());
        }
        other => panic!("not WrongMasterKey: {other:?}"),
    }
    assert!(text.contains("privacy.master_key"), "{text}");
    assert!(
        !text.contains(&new.to_base64()),
        "the key is not echoed: {text}"
    );

    // From a file, the message names the file's setting.
    let key_file = std::env::temp_dir().join(format!("{}-new-key", db.0));
    std::fs::write(&key_file, format!("{}\n", new.to_base64())).expect("write the key file");
    let (text, _) = refused(&db.settings(
        "production",
        &[("master_key_file", key_file.to_str().expect("UTF-8"))],
    ))
    .await;
    let _ = std::fs::remove_file(&key_file);
    assert!(
        text.contains("privacy.master_key_file is not the master key"),
        "{text}"
    );

    // Without a key, development does not take over a configured database.
    let (text, _) = refused(&db.settings("development", &[])).await;
    assert!(text.contains("privacy.master_key"), "{text}");
    assert!(text.contains(old.id()), "{text}");

    // The database's key, or the new one with it as the previous key, opens.
    for privacy in [
        vec![("master_key", old.to_base64())],
        vec![
            ("master_key", new.to_base64()),
            ("previous_master_key", old.to_base64()),
        ],
    ] {
        let privacy: Vec<(&str, &str)> = privacy.iter().map(|(k, v)| (*k, v.as_str())).collect();
        deedlog_cluster::pools::log_reader(&db.settings("production", &privacy))
            .await
            .expect("the key service opens");
    }
}
