//! Every subcommand's bad input: a message that names what is wrong and a
//! non-zero exit, before anything is written.

use crate::shutdown::{database_url, drop_database, run_deedlog};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

#[tokio::test]
async fn bad_input_is_refused_with_a_message_and_nothing_is_written() {
    let dir = std::env::temp_dir().join(format!("deedlog-bad-input-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "environment = \"production\"\n[database\nurl = 1\n",
    )
    .expect("write");
    let wrong_key = dir.join("wrong-key.toml");
    std::fs::write(&wrong_key, "[projector]\nbatch_sise = 10\n").expect("write");
    let production = dir.join("production.toml");
    std::fs::write(&production, "environment = \"production\"\n").expect("write");
    let production = production.display().to_string();
    let small = dir.join("small.toml");
    std::fs::write(&small, "[database]\nmax_connections = 5\n").expect("write");
    let small = small.display().to_string();
    let missing = dir.join("missing.toml");
    let (broken, wrong_key, missing) = (
        broken.display().to_string(),
        wrong_key.display().to_string(),
        missing.display().to_string(),
    );
    // A database that does not exist: any command that wrote would create it.
    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let cases: Vec<(Vec<&str>, &str)> =
        vec![
        (
            vec!["--config", &missing, "config", "check"],
            "does not exist",
        ),
        (
            vec!["--config", &broken, "config", "check"],
            "TOML parse error at line 2",
        ),
        (
            vec!["--config", &wrong_key, "config", "check"],
            "batch_sise",
        ),
        (
            vec!["--log-format", "xml", "projections"],
            "allowed values: pretty, json",
        ),
        (
            vec!["--database-url", "mysql://x/y", "migrate"],
            "postgres://",
        ),
        (
            vec![
                "--database-url",
                "postgres://postgres@127.0.0.1:1/x",
                "projections",
            ],
            "127.0.0.1:1",
        ),
        (vec!["serve", "mailroom"], "possible values"),
        (
            vec!["serve", "gateway", "--source", "kafka"],
            "--source applies to",
        ),
        (vec!["serve", "relay"], "kafka.brokers"),
        (vec!["rebuild", "nosuch"], "the projections are: properties"),
        (
            vec!["reconcile", "nosuch"],
            "the projections are: properties",
        ),
        (vec!["dlq", "replay", "abc"], "invalid digit"),
        (
            vec!["seed", "--tenants", "0", "--properties", "10"],
            "'--tenants <N>': 0 is not in 1..=1000",
        ),
        (
            vec!["seed", "--tenants", "2", "--properties", "0"],
            "'--properties <M>': 0 is not in 1..=10000000",
        ),
        (
            vec!["seed", "--tenants", "2", "--properties", "abc"],
            "invalid value 'abc' for '--properties <M>'",
        ),
        (
            vec!["seed", "--tenants", "5", "--properties", "3"],
            "--properties 3 is fewer than --tenants 5",
        ),
        (
            vec![
                "seed",
                "--tenants",
                "1",
                "--properties",
                "1",
                "--concurrency",
                "0",
            ],
            "'--concurrency <C>': 0 is not in 1..=512",
        ),
        (vec!["seed", "--properties", "10"], "--tenants <N>"),
        (
            vec![
                "--config",
                &production,
                "seed",
                "--tenants",
                "1",
                "--properties",
                "1",
            ],
            "deedlog seed refuses environment = \"production\"",
        ),
        (vec!["keys", "generate", "--kid", ""], "is not a key id"),
        (
            vec!["--config", &small, "up", "--seed", "none"],
            "database.max_connections = 5 is too small for these components: they need at least 8",
        ),
        (
            vec!["audit", "verify", "--from", "9", "--to", "3"],
            "--from (9) must not be after --to (3)",
        ),
        (
            vec!["audit", "verify", "--tenant", "berg"],
            "--tenant \"berg\" is not a tenant id",
        ),
        (
            vec!["audit", "verify-proof", "proof.json", "--public-key", "short"],
            "--public-key is",
        ),
        (vec!["audit", "proof", "first"], "invalid value 'first'"),
        (
            vec!["audit", "as-of", "not-a-record", "2026-01-01"],
            "is not a record id",
        ),
        (
            vec![
                "audit",
                "history",
                "0192f0c4-6d7e-7c3a-9b1e-2f4a5b6c7d8e",
                "--extra",
            ],
            "unexpected argument",
        ),
    ];
    for (args, says) in cases {
        let (ok, out, err) = run_deedlog(&name, &args);
        assert!(!ok, "{args:?} should fail: {out}");
        assert!(err.contains(says), "{args:?} should say {says:?}: {err}");
    }
    // Nothing was created.
    let mut admin = crate::shutdown::admin_options()
        .connect()
        .await
        .expect("admin");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("query");
    admin.close().await.expect("close");
    if exists {
        drop_database(&name).await;
    }
    assert!(
        !exists,
        "a refused command created the database {} ({})",
        name,
        database_url(&name)
    );
    let _ = std::fs::remove_dir_all(dir);
}
