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

#[test]
fn unknown_subcommand_is_refused_with_the_choices() {
    let message = parse(&["migrat"]).expect_err("typo refused").to_string();
    assert!(message.contains("migrate"), "{message}");
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
    let message = parse(&["up", "--seed", "huge"])
        .expect_err("unknown")
        .to_string();
    assert!(
        message.contains("demo") && message.contains("none"),
        "{message}"
    );
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
    let cli = parse(&[
        "up",
        "--data-dir",
        "/nonexistent/pg",
        "--database-url",
        "postgres://postgres@127.0.0.1:5432/deedlog",
    ])
    .expect("parses");
    let message = format!("{:#}", run(cli).await.expect_err("both refused"));
    assert!(message.contains("leave out --database-url"), "{message}");
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
        let message = parse(&args).expect_err("out of range").to_string();
        assert!(
            message.contains(flag) && message.contains("is not in"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn source_applies_to_the_projector_only_and_kafka_needs_brokers() {
    let cli = parse(&["serve", "gateway", "--source", "kafka"]).expect("parses");
    let message = format!("{:#}", run(cli).await.expect_err("not a projector"));
    assert!(
        message.contains("--source applies to `deedlog serve projector`"),
        "{message}"
    );
    let cli = parse(&[
        "serve",
        "projector",
        "--source",
        "kafka",
        "--log-filter",
        "off",
    ])
    .expect("parses");
    let message = format!("{:#}", run(cli).await.expect_err("no brokers"));
    assert!(message.contains("projector.source"), "{message}");
    assert!(message.contains("kafka.brokers"), "{message}");
    let message = parse(&["serve", "projector", "--source", "pulsar"])
        .expect_err("unknown source")
        .to_string();
    assert!(
        message.contains("log") && message.contains("kafka"),
        "{message}"
    );
}

#[tokio::test]
async fn migrate_to_an_unreachable_server_says_so() {
    // Port 1 on loopback: nothing listens there.
    let cli = parse(&[
        "migrate",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/x",
        "--log-filter",
        "off",
    ])
    .expect("parses");
    let message = format!("{:#}", run(cli).await.expect_err("no server"));
    assert!(message.contains("prepare database x"), "{message}");
    assert!(message.contains("unreachable"), "{message}");
}

#[tokio::test]
async fn migrate_creates_and_migrates_a_database_once() {
    let name = format!("deedlog_cli_{}", std::process::id());
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let admin: PgConnectOptions = "postgres://postgres@127.0.0.1:5432/postgres"
        .parse()
        .expect("url");
    for _ in 0..2 {
        let cli =
            parse(&["migrate", "--database-url", &url, "--log-filter", "off"]).expect("parses");
        run(cli)
            .await
            .expect("migrate succeeds, the second time with nothing to do");
    }
    let options: PgConnectOptions = url.parse().expect("url");
    let mut conn = sqlx::ConnectOptions::connect(&options)
        .await
        .expect("database exists");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .expect("migrations table");
    assert_eq!(
        applied as usize,
        deedlog_eventstore::MIGRATOR.iter().count()
    );
    let read_models: i64 = sqlx::query_scalar("SELECT count(*) FROM deedlog_read._sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .expect("read-model migrations table");
    assert_eq!(
        read_models as usize,
        deedlog_projector::migrate::MIGRATOR.iter().count()
    );
    drop(conn);
    let mut admin = sqlx::ConnectOptions::connect(&admin).await.expect("admin");
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
                let admin: PgConnectOptions = "postgres://postgres@127.0.0.1:5432/postgres"
                    .parse()
                    .expect("url");
                let mut conn = sqlx::ConnectOptions::connect(&admin).await.expect("admin");
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
        let error = run(parse(&full).expect("parses"))
            .await
            .expect_err("refused");
        let message = format!("{error:#}");
        assert!(message.contains("unknown projection"), "{message}");
        assert!(message.contains("properties"), "{message}");
    }
}

#[tokio::test]
async fn dead_letter_commands_name_a_missing_id_and_change_nothing() {
    let (url, _guard) = migrated_database("dlq").await;
    for args in [&["dlq", "replay", "42"][..], &["dlq", "skip", "42"][..]] {
        let mut full = args.to_vec();
        full.extend(["--database-url", url.as_str()]);
        let error = run(parse(&full).expect("parses"))
            .await
            .expect_err("refused");
        assert!(
            format!("{error:#}").contains("no dead letter with id 42"),
            "{error:#}"
        );
    }
    let not_a_number = parse(&["dlq", "replay", "forty-two"]).expect_err("refused");
    assert!(
        not_a_number.to_string().contains("forty-two"),
        "{not_a_number}"
    );
    let list = parse(&["dlq", "list", "--database-url", &url]).expect("parses");
    run(list).await.expect("an empty list is fine");
}

#[tokio::test]
async fn reconcile_before_the_projector_ran_says_so_and_records_the_failed_run() {
    let (url, _guard) = migrated_database("reconcile").await;
    let cli = parse(&["reconcile", "properties", "--database-url", &url]).expect("parses");
    let error = run(cli).await.expect_err("no live model yet");
    assert!(
        format!("{error:#}").contains("no live read model"),
        "{error:#}"
    );
    let options: PgConnectOptions = url.parse().expect("url");
    let mut conn = sqlx::ConnectOptions::connect(&options)
        .await
        .expect("connect");
    let status: String = sqlx::query_scalar("SELECT status FROM deedlog_read.reconciliation_runs")
        .fetch_one(&mut conn)
        .await
        .expect("one run");
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn rebuild_against_an_unreachable_database_says_so() {
    let cli = parse(&[
        "rebuild",
        "properties",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/deedlog",
    ])
    .expect("parses");
    let error = run(cli).await.expect_err("unreachable");
    assert!(format!("{error:#}").contains("127.0.0.1:1"), "{error:#}");
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
    let message = parse(&["serve", "mailroom"])
        .expect_err("not a component")
        .to_string();
    assert!(
        message.contains("tenancy")
            && message.contains("communications")
            && message.contains("gateway"),
        "{message}"
    );
}
