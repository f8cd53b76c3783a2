//! Tests of the command line: parsing, refusals, and commands run against
//! a database of their own.

use super::args::{Cli, Command, SeedArg};
use super::config::describe;
use super::run;
use clap::Parser;
use deedlog_runtime::settings::{Overrides, Settings};
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use std::path::PathBuf;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("deedlog").chain(args.iter().copied()))
}

/// Asserts that clap refuses `args` with a message mentioning each of `words`.
fn assert_parse_refused(args: &[&str], words: &[&str]) {
    assert_mentions(&parse(args).expect_err("refused").to_string(), words);
}

/// Asserts that `args` parse but running them fails with a message (causes
/// included) mentioning each of `words`.
async fn assert_run_refused(args: &[&str], words: &[&str]) {
    let cli = parse(args).expect("parses");
    assert_mentions(
        &format!("{:#}", run(cli).await.expect_err("refused")),
        words,
    );
}

/// A connection to the database at `url`.
async fn connect(url: &str) -> sqlx::PgConnection {
    let options: PgConnectOptions = url.parse().expect("url");
    sqlx::ConnectOptions::connect(&options)
        .await
        .expect("connect")
}

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn assert_mentions(message: &str, words: &[&str]) {
    for word in words {
        assert!(message.contains(word), "{word:?} missing from: {message}");
    }
}

#[test]
fn unknown_subcommand_is_refused_with_the_choices() {
    assert_parse_refused(&["migrat"], &["migrate"]);
}

#[test]
fn global_flags_go_anywhere() {
    let cli = parse(&["migrate", "--database-url", "postgres://x@y/z"]).expect("parses");
    assert_eq!(cli.global.database_url.as_deref(), Some("postgres://x@y/z"));
}

#[test]
fn flag_without_value_is_refused() {
    assert!(parse(&["migrate", "--database-url"]).is_err());
}

#[tokio::test]
async fn invalid_flag_value_names_the_key() {
    let cli = parse(&["config", "check", "--log-format", "yaml"]).expect("parses");
    let message = run(cli).await.expect_err("yaml refused").to_string();
    assert!(
        message.contains("log.format") && message.contains("pretty, json"),
        "{message}"
    );
}

#[test]
fn up_seeds_the_demo_unless_told_otherwise() {
    for (args, demo) in [
        (vec!["up"], true),
        (vec!["up", "--seed", "demo"], true),
        (vec!["up", "--seed", "none"], false),
        (vec!["up", "--no-demo"], false),
    ] {
        let Command::Up { seed, no_demo, .. } = parse(&args).expect("parses").command else {
            panic!("{args:?} is up");
        };
        assert_eq!(seed == SeedArg::Demo && !no_demo, demo, "{args:?}");
    }
    assert_parse_refused(&["up", "--seed", "huge"], &["demo", "none"]);
}

#[tokio::test]
async fn up_takes_a_data_dir_but_not_with_a_database_url() {
    let Command::Up { data_dir, .. } = parse(&["up", "--data-dir", "pg data"])
        .expect("parses")
        .command
    else {
        panic!("up is up");
    };
    assert_eq!(data_dir, Some(PathBuf::from("pg data")));
    let Command::Up { data_dir, .. } = parse(&["up"]).expect("parses").command else {
        panic!("up is up");
    };
    assert_eq!(data_dir, None);
    assert!(parse(&["up", "--data-dir"]).is_err(), "DIR is required");
    assert_run_refused(
        &[
            "up",
            "--data-dir",
            "/nonexistent/pg",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/deedlog",
        ],
        &["leave out --database-url"],
    )
    .await;
}

#[test]
fn seed_takes_tenants_and_properties_with_defaults_for_the_rest() {
    let cli = parse(&["seed", "--tenants", "2", "--properties", "40"]).expect("parses");
    let Command::Seed(args) = cli.command else {
        panic!("seed is seed");
    };
    assert_eq!((args.tenants, args.properties), (2, 40));
    assert_eq!(args.seed, deedlog_seed::DEFAULT_SEED);
    assert_eq!(args.concurrency, 32);
    for (tenants, properties, concurrency, flag) in [
        ("1001", "2000", "8", "--tenants"),
        ("2", "10000001", "8", "--properties"),
        ("2", "40", "513", "--concurrency"),
    ] {
        let args = [
            "seed",
            "--tenants",
            tenants,
            "--properties",
            properties,
            "--concurrency",
            concurrency,
        ];
        assert_parse_refused(&args, &[flag, "is not in"]);
    }
}

#[tokio::test]
async fn source_applies_to_the_projector_only_and_kafka_needs_brokers() {
    assert_run_refused(
        &["serve", "gateway", "--source", "kafka"],
        &["--source applies to `deedlog serve projector`"],
    )
    .await;
    assert_run_refused(
        &[
            "serve",
            "projector",
            "--source",
            "kafka",
            "--log-filter",
            "off",
        ],
        &["projector.source", "kafka.brokers"],
    )
    .await;
    assert_parse_refused(
        &["serve", "projector", "--source", "pulsar"],
        &["log", "kafka"],
    );
}

#[tokio::test]
async fn migrate_to_an_unreachable_server_says_so() {
    // Port 1 on loopback: nothing listens there.
    assert_run_refused(
        &[
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/x",
            "--log-filter",
            "off",
        ],
        &["prepare database x", "unreachable"],
    )
    .await;
}

#[tokio::test]
async fn migrate_creates_and_migrates_a_database_once() {
    let name = format!("deedlog_cli_{}", std::process::id());
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    for _ in 0..2 {
        let cli =
            parse(&["migrate", "--database-url", &url, "--log-filter", "off"]).expect("parses");
        run(cli)
            .await
            .expect("migrate succeeds, the second time with nothing to do");
    }
    let mut conn = connect(&url).await;
    // Each migrator's table holds exactly its migrations.
    for (table, migrator) in [
        ("_sqlx_migrations", &deedlog_eventstore::MIGRATOR),
        (
            "deedlog_read._sqlx_migrations",
            &deedlog_projector::migrate::MIGRATOR,
        ),
    ] {
        let applied: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .expect(table);
        assert_eq!(applied as usize, migrator.iter().count(), "{table}");
    }
    drop(conn);
    let mut admin = connect(ADMIN_URL).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop");
}

/// A freshly migrated database of its own, dropped by the returned guard.
async fn migrated_database(tag: &str) -> (String, DropDatabase) {
    let name = format!("deedlog_cli_{tag}_{}", std::process::id());
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let cli = parse(&["migrate", "--database-url", &url, "--log-filter", "off"]).expect("parses");
    run(cli).await.expect("migrate");
    (url, DropDatabase(name))
}

struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = connect(ADMIN_URL).await;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        })
        .join();
    }
}

#[tokio::test]
async fn operations_on_an_unknown_projection_name_the_known_ones() {
    for args in [
        &["rebuild", "propertys"][..],
        &["reconcile", "deal"][..],
        &["dlq", "list", "--projection", "nope"][..],
    ] {
        // Refused before connecting: the database URL is never used.
        let mut full = args.to_vec();
        full.extend(["--database-url", "postgres://nobody@127.0.0.1:1/none"]);
        assert_run_refused(&full, &["unknown projection", "properties"]).await;
    }
}

#[tokio::test]
async fn dead_letter_commands_name_a_missing_id_and_change_nothing() {
    let (url, _guard) = migrated_database("dlq").await;
    for args in [&["dlq", "replay", "42"][..], &["dlq", "skip", "42"][..]] {
        let mut full = args.to_vec();
        full.extend(["--database-url", url.as_str()]);
        assert_run_refused(&full, &["no dead letter with id 42"]).await;
    }
    assert_parse_refused(&["dlq", "replay", "forty-two"], &["forty-two"]);
    let list = parse(&["dlq", "list", "--database-url", &url]).expect("parses");
    run(list).await.expect("an empty list is fine");
}

#[tokio::test]
async fn reconcile_before_the_projector_ran_says_so_and_records_the_failed_run() {
    let (url, _guard) = migrated_database("reconcile").await;
    assert_run_refused(
        &["reconcile", "properties", "--database-url", &url],
        &["no live read model"],
    )
    .await;
    let mut conn = connect(&url).await;
    let status: String = sqlx::query_scalar("SELECT status FROM deedlog_read.reconciliation_runs")
        .fetch_one(&mut conn)
        .await
        .expect("one run");
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn rebuild_against_an_unreachable_database_says_so() {
    assert_run_refused(
        &[
            "rebuild",
            "properties",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/deedlog",
        ],
        &["127.0.0.1:1"],
    )
    .await;
}

#[test]
fn config_check_redacts_the_password() {
    let settings = Settings::from_figment(
        Settings::figment(
            None,
            &Overrides {
                database_url: Some("postgres://app:s3cret@db/deedlog".into()),
                ..Overrides::default()
            },
        )
        .expect("figment"),
    )
    .expect("valid");
    let text = describe(&settings).expect("prints");
    assert!(text.contains("postgres://app:***@db/deedlog"), "{text}");
    assert!(!text.contains("s3cret"));
}

#[test]
fn config_check_redacts_the_signing_key() {
    let pair = deedlog_runtime::auth::KeyPair::generate(None).expect("key");
    let pem = pair.private_pem().expect("pem");
    let figment = Settings::figment(None, &Overrides::default())
        .expect("figment")
        .merge(("auth.signing_key", pem.expose_secret().to_owned()));
    let text = describe(&Settings::from_figment(figment).expect("valid")).expect("prints");
    assert!(text.contains("signing_key = \"***\""), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(
        text.contains("tenancy_listen = \"127.0.0.1:7101\""),
        "{text}"
    );
}

#[test]
fn config_check_redacts_webhook_secrets_and_shows_the_gateway() {
    let figment = Settings::figment(None, &Overrides::default())
        .expect("figment")
        .merge(("gateway.webhooks.mailer.secret", "whsec-very-secret"))
        .merge(("gateway.webhooks.mailer.tenant_slug", "berg"))
        .merge(("gateway.webhooks.mailer.email", "mailer@berg.example"))
        .merge(("gateway.webhooks.mailer.password", "integration-password"));
    let text = describe(&Settings::from_figment(figment).expect("valid")).expect("prints");
    assert!(text.contains("[gateway.webhooks.mailer]"), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
    assert!(!text.contains("whsec-very-secret"), "{text}");
    assert!(!text.contains("integration-password"), "{text}");
}

#[tokio::test]
async fn serve_refuses_an_unknown_component_with_the_choices() {
    assert_parse_refused(
        &["serve", "mailroom"],
        &["tenancy", "communications", "gateway"],
    );
}
