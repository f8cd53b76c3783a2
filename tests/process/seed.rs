//! `deedlog seed` on a fresh database: the tenants' properties, deals at
//! every stage, consents and messages are in the log, and the same command
//! again appends nothing.

use crate::shutdown::{database_url, drop_database, run_deedlog};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeSet;
use uuid::Uuid;

async fn count(db: &mut sqlx::PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn seed_fills_a_fresh_database_and_the_same_command_again_changes_nothing() {
    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let args = ["seed", "--tenants", "2", "--properties", "40"];
    let (ok, out, err) = run_deedlog(&name, &args);
    assert!(ok, "seed failed:\n{out}\n{err}");
    for says in [
        "seeded 2 tenants",
        "admin@seed-01.deedlog.example",
        "admin@seed-02.deedlog.example",
        "\"deedlog-seed-password\"",
        "commands/s",
    ] {
        assert!(
            out.contains(says),
            "the summary should say {says:?}:\n{out}"
        );
    }

    let options: PgConnectOptions = database_url(&name).parse().expect("url");
    let mut db = options.connect().await.expect("connect");
    let per_tenant: Vec<i64> = sqlx::query_scalar(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = 'property' \
         GROUP BY tenant_id ORDER BY 1",
    )
    .fetch_all(&mut db)
    .await
    .expect("properties per tenant");
    assert_eq!(
        per_tenant,
        vec![20, 20],
        "two tenants' properties summing to 40"
    );

    let moved: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT payload->>'to' FROM events WHERE event_type = 'StageMoved'",
    )
    .fetch_all(&mut db)
    .await
    .expect("stages");
    let mut stages: BTreeSet<String> = moved.into_iter().collect();
    for (event, stage) in [
        ("DealOpened", "lead"),
        ("DealWon", "closed_won"),
        ("DealLost", "closed_lost"),
    ] {
        let sql = format!("SELECT count(*) FROM events WHERE event_type = '{event}'");
        if count(&mut db, &sql).await > 0 {
            stages.insert(stage.to_owned());
        }
    }
    let every: BTreeSet<String> = [
        "lead",
        "qualified",
        "viewing",
        "offer",
        "negotiation",
        "under_contract",
        "closed_won",
        "closed_lost",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(stages, every, "deals reach every stage");
    for (event, at_least) in [
        ("MessageQueued", 5),
        ("MessageDelivered", 5),
        ("ConsentGranted", 10),
        ("ContactCreated", 14),
        ("ListingStatusChanged", 20),
        ("UserActivated", 4),
    ] {
        let sql = format!("SELECT count(*) FROM events WHERE event_type = '{event}'");
        let n = count(&mut db, &sql).await;
        assert!(
            n >= at_least,
            "{n} {event} events, expected at least {at_least}"
        );
    }

    let before = count(&mut db, "SELECT count(*) FROM events").await;
    let (ok, again, err) = run_deedlog(&name, &args);
    assert!(ok, "the second run failed:\n{again}\n{err}");
    let after = count(&mut db, "SELECT count(*) FROM events").await;
    assert_eq!(
        before, after,
        "the same seed again appended events:\n{again}"
    );
    assert!(again.contains("40 properties were already done"), "{again}");
    db.close().await.expect("close");
    drop_database(&name).await;
}
