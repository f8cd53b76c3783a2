//! Tenant isolation of the read models.

use crate::support::*;
use deedlog_kernel::TenantId;
use deedlog_projector::projections;
use sqlx::Connection;

#[tokio::test]
async fn every_read_model_table_has_row_level_security_and_a_tenant_sees_only_its_rows() {
    let db = TestDb::new().await;
    let (t1, t2) = (db.tenant().await, db.tenant().await);
    for tenant in [t1, t2] {
        let mut price = 35_000_000;
        let stream = new_stream();
        db.append(
            tenant,
            stream,
            &[
                created("Ulm", price),
                change(0, &mut price),
                change(5, &mut price),
            ],
        )
        .await;
    }
    for projection in projections::all() {
        let mut p = db.projector(projection, 100).await;
        catch_up(&mut p).await;
    }
    let tables: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, c.relrowsecurity FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND (n.nspname LIKE 'rm\\_%' OR n.nspname = 'deedlog_read') \
           AND c.relname <> '_sqlx_migrations' ORDER BY 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .expect("tables");
    assert!(tables.len() >= projections::all().len() + 2, "{tables:?}");
    let without: Vec<_> = tables.iter().filter(|t| !t.2).collect();
    assert!(
        without.is_empty(),
        "tables without row-level security: {without:?}"
    );

    let mut conn = session(&db, &["SET ROLE deedlog_app"]).await;
    for (schema, table, _) in tables
        .iter()
        .filter(|t| t.0.starts_with("rm_") && t.1 != "checkpoint")
    {
        let sql = format!(
            "SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FROM {schema}.{table}"
        );
        let mut tx = as_tenant(&mut conn, t1).await;
        let (own, all): (i64, i64) = sqlx::query_as(&sql)
            .bind(t1.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .expect(&sql);
        assert_eq!(
            own, all,
            "{schema}.{table}: another tenant's rows are visible"
        );
        tx.rollback().await.expect("rollback");
        let unbound: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.{table}"))
            .fetch_one(&mut conn)
            .await
            .expect("count");
        assert_eq!(
            unbound, 0,
            "{schema}.{table}: rows visible without a tenant"
        );
    }
    let props: i64 = {
        let mut tx = as_tenant(&mut conn, t2).await;
        sqlx::query_scalar("SELECT count(*) FROM rm_properties.price_history")
            .fetch_one(&mut *tx)
            .await
            .expect("count")
    };
    assert_eq!(props, 2, "the bound tenant sees its own rows");
    let write = sqlx::query("DELETE FROM rm_properties.properties")
        .execute(&mut conn)
        .await;
    assert!(
        write.is_err(),
        "the application role cannot write read models"
    );
}

/// A transaction on `conn` with `tenant` bound, as the API's scope binds it.
async fn as_tenant(
    conn: &mut sqlx::PgConnection,
    tenant: TenantId,
) -> sqlx::Transaction<'_, sqlx::Postgres> {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('deedlog.tenant_id', $1, true)")
        .bind(tenant.as_uuid().to_string())
        .execute(&mut *tx)
        .await
        .expect("bind tenant");
    tx
}
