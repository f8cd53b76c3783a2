//! Immutability of history and tenant isolation, checked at the SQL level
//! for every role and through the API.

use crate::support::{self, new_stream, request, TestDb};
use deedlog_eventstore::{Error, ExpectedVersion, StreamQuery};

fn sqlstate(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()).unwrap_or_default(),
        other => panic!("expected a database error, got {other:?}"),
    }
}

#[tokio::test]
async fn no_role_can_update_delete_or_truncate_events() {
    let (db, store, tenant, _) = support::seeded(0).await;
    store
        .append(&request(tenant, new_stream(), ExpectedVersion::NoStream, 2))
        .await
        .expect("append");

    let owner = db.owner_pool().await;
    for (sql, op) in [
        ("UPDATE events SET actor = 'someone else'", "UPDATE"),
        ("DELETE FROM events", "DELETE"),
        ("TRUNCATE events", "TRUNCATE"),
        ("UPDATE commands SET stream_version = 99", "UPDATE"),
        ("DELETE FROM commands", "DELETE"),
    ] {
        let error = sqlx::query(sql)
            .execute(&owner)
            .await
            .expect_err("owner refused");
        assert_eq!(sqlstate(&error), "DL001", "{sql}");
        assert!(error.to_string().contains(&format!("{op} on")), "{error}");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    for role in ["deedlog_app", "deedlog_log_reader"] {
        let mut conn = db.connection_as(role).await;
        sqlx::query("SELECT set_config('deedlog.tenant_id', $1, false)")
            .bind(tenant.to_string())
            .execute(&mut conn)
            .await
            .expect("bind tenant");
        for sql in [
            "UPDATE events SET actor = 'x'",
            "DELETE FROM events",
            "TRUNCATE events",
        ] {
            let error = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect_err("role refused");
            assert_eq!(sqlstate(&error), "42501", "{role}: {sql}: {error}");
        }
    }
    assert_eq!(db.count_events().await, 2, "nothing was changed");
}

#[tokio::test]
async fn one_tenant_cannot_read_or_write_another_tenants_events() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tenant_a = support::tenant(&store).await;
    let tenant_b = support::tenant(&store).await;
    let stream_b = new_stream();
    store
        .append(&request(tenant_b, stream_b, ExpectedVersion::NoStream, 2))
        .await
        .expect("append b");

    // Through the API: B's stream does not exist for A, neither to read nor to write.
    assert!(store
        .read_stream(tenant_a, stream_b, StreamQuery::ALL)
        .await
        .expect("read")
        .is_empty());
    let error = store
        .append(&request(tenant_a, stream_b, ExpectedVersion::Any, 1))
        .await
        .expect_err("foreign stream");
    assert!(
        matches!(error, Error::StreamNotInTenant { stream, tenant } if stream == stream_b && tenant == tenant_a),
        "{error:?}"
    );

    // In SQL, in a transaction bound to A: B's rows are invisible and cannot be written.
    let mut tx = store.begin_for_tenant(tenant_a).await.expect("begin");
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(visible, 0);
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM commands")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(visible, 0);
    let error = sqlx::query(
        "INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version, payload, \
         actor, command_id, correlation_id, causation_id, occurred_at, recorded_at) \
         VALUES ($1, gen_random_uuid(), 'property', 1, 'X', 1, '{}', 'user:x', gen_random_uuid(), \
         gen_random_uuid(), gen_random_uuid(), now(), now())",
    )
    .bind(tenant_b.as_uuid())
    .execute(&mut *tx)
    .await
    .expect_err("RLS refuses");
    assert_eq!(sqlstate(&error), "42501", "{error}");
    drop(tx);

    // The function refuses to append for B inside A's transaction.
    let mut tx = store.begin_for_tenant(tenant_a).await.expect("begin");
    let error = sqlx::query(
        "SELECT * FROM append_events($1, gen_random_uuid(), 'property', 0, gen_random_uuid(), 'user:x', \
         gen_random_uuid(), gen_random_uuid(), NULL, NULL, now(), ARRAY['X'], ARRAY[1], ARRAY['{}']::json[])",
    )
    .bind(tenant_b.as_uuid())
    .execute(&mut *tx)
    .await
    .expect_err("bound to A");
    assert_eq!(sqlstate(&error), "DL002", "{error}");
    drop(tx);

    // An application connection with no tenant bound sees nothing at all.
    let mut conn = db.connection_as("deedlog_app").await;
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(visible, 0);

    // The privileged reader sees every tenant.
    let reader = db.reader().await;
    assert_eq!(reader.read_all(0, 100).await.expect("read all").len(), 2);
    assert_eq!(db.count_events().await, 2);
}

#[tokio::test]
async fn every_table_has_row_level_security_enabled() {
    let db = TestDb::new().await;
    let owner = db.owner_pool().await;
    let without: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND c.relname <> '_sqlx_migrations' AND NOT c.relrowsecurity ORDER BY 1",
    )
    .fetch_all(&owner)
    .await
    .expect("list tables");
    assert!(
        without.is_empty(),
        "tables without row-level security: {without:?}"
    );
    let tenant_tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname <> '_sqlx_migrations' \
           AND c.relname NOT IN ('relay_progress', 'privacy_master', 'seal_blocks', 'seal_development_key') \
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')",
    )
    .fetch_all(&owner)
    .await
    .expect("list tables");
    assert!(
        tenant_tables.is_empty(),
        "tables without a tenant_id column: {tenant_tables:?}"
    );
    // The tables of no tenant: the Kafka relay's progress is the reader's
    // alone, and the master key's id (privacy_master, ADR 0035) no role's
    // (its functions read it): the application role cannot even read them.
    let mut conn = db.connection_as("deedlog_app").await;
    let error = sqlx::query("SELECT * FROM relay_progress")
        .fetch_all(&mut conn)
        .await
        .expect_err("not the application's");
    assert!(error.to_string().contains("permission denied"), "{error}");
    let error = sqlx::query("SELECT * FROM privacy_master")
        .fetch_all(&mut conn)
        .await
        .expect_err("not the application's");
    assert!(error.to_string().contains("permission denied"), "{error}");
    // The log's seals (ADR 0037): heads name no tenant and every auditor's
    // proof needs them, so the application role reads them, and writes
    // none; the development sealing key is no role's to read.
    sqlx::query("SELECT * FROM seal_blocks")
        .fetch_all(&mut conn)
        .await
        .expect("heads are readable");
    let error = sqlx::query(
        "INSERT INTO seal_blocks VALUES (1, 1, 1, '\\x00', '\\x00', '\\x00', 'k', '\\x00', now())",
    )
    .execute(&mut conn)
    .await
    .expect_err("not the application's to write");
    assert!(error.to_string().contains("permission denied"), "{error}");
    let error = sqlx::query("SELECT * FROM seal_development_key")
        .fetch_all(&mut conn)
        .await
        .expect_err("no role's");
    assert!(error.to_string().contains("permission denied"), "{error}");
}
