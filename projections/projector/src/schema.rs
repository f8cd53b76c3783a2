//! The PostgreSQL schema a projection lives in: created from its DDL, with
//! row-level security and grants added to every table, and swapped with a
//! rebuilt one by renaming.

use crate::error::Error;
use crate::projection::Projection;
use sha2::{Digest, Sha256};
use sqlx::{Acquire, PgConnection, Row};

/// The table that holds a schema's position in the log; not tenant data.
pub const CHECKPOINT_TABLE: &str = "checkpoint";

/// The schema the live read model of `projection` lives in.
pub fn live(projection: &str) -> String {
    format!("rm_{projection}")
}

/// The schema a rebuild of `projection` is built in before the swap.
pub fn aside(projection: &str) -> String {
    format!("rm_{projection}__rebuild")
}

/// A fingerprint of the DDL a schema was created from.
pub fn ddl_hash(projection: &dyn Projection) -> String {
    let digest = Sha256::digest(projection.ddl().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Quotes a schema or table name. Every name here is made by this crate
/// from projection names (ASCII letters, digits, `_`), so quoting suffices
/// to make it safe in dynamic SQL; anything else is refused.
pub fn ident(name: &str) -> Result<String, Error> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(Error::Schema(format!(
            "{name:?} is not a valid schema or table name"
        )))
    }
}

/// Whether `schema` exists.
pub async fn exists(conn: &mut PgConnection, schema: &str) -> Result<bool, Error> {
    sqlx::query("SELECT 1 FROM pg_namespace WHERE nspname = $1")
        .bind(schema)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
        .map_err(Error::db("look up a projection schema"))
}

/// Creates `schema` for `projection` (tables, checkpoint at 0, row-level
/// security, grants) in one transaction.
pub async fn create(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
) -> Result<(), Error> {
    create_with(conn, projection, schema, projection.ddl()).await
}

/// Creates `schema` with the tables and keys of `projection` but not its
/// secondary indexes, for a rebuild to load; [`create_indexes`] adds them.
pub async fn create_for_loading(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
) -> Result<(), Error> {
    let (tables, _) = crate::ddl::split(projection.ddl());
    create_with(conn, projection, schema, &tables).await
}

/// Creates the secondary indexes of `projection` in `schema`.
pub async fn create_indexes(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
) -> Result<(), Error> {
    let (_, indexes) = crate::ddl::split(projection.ddl());
    let mut tx = conn.begin().await.map_err(Error::db("create indexes"))?;
    use_schema(&mut tx, schema).await?;
    // One index build may use more memory than a batch.
    run(
        &mut tx,
        "SET LOCAL maintenance_work_mem = '256MB'",
        "create indexes",
    )
    .await?;
    for index in indexes {
        script(&mut tx, &index).await.map_err(|source| {
            Error::Schema(format!(
                "an index of projection {} failed: {source}",
                projection.name()
            ))
        })?;
    }
    tx.commit().await.map_err(Error::db("create indexes"))
}

async fn create_with(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
    ddl: &str,
) -> Result<(), Error> {
    let context = "create a projection schema";
    let quoted = ident(schema)?;
    let mut tx = conn.begin().await.map_err(Error::db(context))?;
    let sql = format!("CREATE SCHEMA {quoted}; SET LOCAL search_path TO {quoted};");
    run(&mut tx, &sql, context).await?;
    script(&mut tx, ddl).await.map_err(|source| {
        Error::Schema(format!(
            "the DDL of projection {} failed: {source}",
            projection.name()
        ))
    })?;
    script(
        &mut tx,
        &format!(
            "CREATE TABLE {CHECKPOINT_TABLE} (
                 projection text PRIMARY KEY,
                 position   bigint NOT NULL,
                 ddl_hash   text NOT NULL,
                 -- recorded_at of the last event applied: the read model's freshness
                 event_recorded_at timestamptz,
                 -- bumped by each new lease holder; batches of an older one fail
                 lease_epoch bigint NOT NULL DEFAULT 0
             )"
        ),
    )
    .await
    .map_err(Error::db(context))?;
    sqlx::query(&format!(
        "INSERT INTO {CHECKPOINT_TABLE} (projection, position, ddl_hash) VALUES ($1, 0, $2)"
    ))
    .bind(projection.name())
    .bind(ddl_hash(projection))
    .execute(&mut *tx)
    .await
    .map_err(Error::db(context))?;
    secure(&mut tx, schema).await?;
    grant_analyst(&mut tx, projection, schema).await?;
    tx.commit().await.map_err(Error::db(context))
}

/// Row-level security and grants on every table of `schema`: the
/// application role sees the bound tenant's rows, analysts read all rows
/// (but not their personal columns: [`grant_analyst`]), nobody but the
/// owner writes.
async fn secure(conn: &mut PgConnection, schema: &str) -> Result<(), Error> {
    let context = "secure a projection schema";
    let tables: Vec<(String, bool)> = sqlx::query(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
             AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db(context))?
    .into_iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    let quoted_schema = ident(schema)?;
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA {quoted_schema} TO deedlog_app, deedlog_analyst;\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA {quoted_schema} TO deedlog_app;\n"
    );
    for (table, has_tenant) in tables {
        let quoted = format!("{quoted_schema}.{}", ident(&table)?);
        sql.push_str(&format!(
            "ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY;\n"
        ));
        if table == CHECKPOINT_TABLE {
            // Positions only: every reader may see how fresh the model is.
            sql.push_str(&format!(
                "CREATE POLICY checkpoint_readable ON {quoted} FOR SELECT \
                 TO deedlog_app, deedlog_analyst USING (true);\n"
            ));
            continue;
        }
        if !has_tenant {
            return Err(Error::Schema(format!(
                "table {schema}.{table} has no tenant_id column; every read-model table must"
            )));
        }
        sql.push_str(&format!(
            "CREATE POLICY of_bound_tenant ON {quoted} FOR SELECT TO deedlog_app \
               USING (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid);\n\
             CREATE POLICY of_analyst ON {quoted} FOR SELECT TO deedlog_analyst USING (true);\n"
        ));
    }
    run(conn, &sql, context).await
}

/// Lets the analyst role read every column of `schema`'s tables but the
/// personal ones `projection` declares ([`crate::personal`]): a table-level
/// grant would cover columns added later, so each table gets a grant on the
/// columns it has, and any earlier grant is revoked first. Idempotent: the
/// runner applies it again to a live schema made by an older version, and
/// every schema a rebuild or reconciliation creates gets it on creation.
/// A declared personal column the schema lacks is an error, so that a
/// renamed column cannot silently become readable.
pub async fn grant_analyst(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
) -> Result<(), Error> {
    let context = "grant the analyst role its columns";
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname, a.attnum",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db(context))?;
    for personal in crate::personal::of(projection.name()) {
        for column in personal.columns {
            if !columns
                .iter()
                .any(|(t, c)| t == personal.table && c == column)
            {
                return Err(Error::Schema(format!(
                    "personal column {schema}.{}.{column} does not exist",
                    personal.table
                )));
            }
        }
    }
    let quoted_schema = ident(schema)?;
    let mut sql = String::new();
    let mut tables: Vec<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
    tables.dedup();
    for table in tables {
        let personal = crate::personal::columns(projection.name(), table);
        let readable = columns
            .iter()
            .filter(|(t, c)| t == table && !personal.contains(&c.as_str()))
            .map(|(_, c)| ident(c))
            .collect::<Result<Vec<_>, _>>()?;
        let quoted = format!("{quoted_schema}.{}", ident(table)?);
        // Revoking the table's privilege revokes its columns' too.
        sql.push_str(&format!(
            "REVOKE SELECT ON {quoted} FROM deedlog_analyst;\n"
        ));
        if !readable.is_empty() {
            sql.push_str(&format!(
                "GRANT SELECT ({}) ON {quoted} TO deedlog_analyst;\n",
                readable.join(", ")
            ));
        }
    }
    run(conn, &sql, context).await
}

/// The tables of `schema`.
pub async fn tables(conn: &mut PgConnection, schema: &str) -> Result<Vec<String>, Error> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(conn)
    .await
    .map_err(Error::db("list the tables of a projection schema"))
}

/// The tables `projection`'s DDL creates (not the projector's own
/// bookkeeping: the checkpoint, a Kafka source's offsets), each with its
/// primary key from `schema`'s catalog in key order: what reconciliation
/// matches rows by. The DDL is the one place a table and its key are written.
pub async fn keyed_tables(
    conn: &mut PgConnection,
    schema: &str,
    projection: &dyn Projection,
) -> Result<Vec<Table>, Error> {
    let names: Vec<String> = crate::ddl::statements(projection.ddl())
        .iter()
        .filter_map(|statement| created_table(statement))
        .collect();
    let rows: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
        "SELECT c.relname::text, \
                (SELECT array_agg(a.attname::text ORDER BY k.ord) \
                 FROM pg_index i \
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
                 WHERE i.indrelid = c.oid AND i.indisprimary) \
         FROM unnest($2::text[]) WITH ORDINALITY AS t(name, ord) \
         JOIN pg_class c ON c.relname = t.name \
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1 \
         ORDER BY t.ord",
    )
    .bind(schema)
    .bind(&names)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the keys of a projection's tables"))?;
    if rows.len() != names.len() {
        return Err(Error::Schema(format!(
            "schema {schema} lacks some of the tables its DDL creates ({})",
            names.join(", ")
        )));
    }
    rows.into_iter()
        .map(|(name, key)| match key {
            Some(key) => Ok(Table { name, key }),
            None => Err(Error::Schema(format!(
                "table {schema}.{name} has no primary key to match rows by"
            ))),
        })
        .collect()
}

/// The name of the table a `CREATE TABLE` statement creates.
fn created_table(statement: &str) -> Option<String> {
    let code: Vec<&str> = statement
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect();
    let code = code.join("\n");
    let rest = code.trim_start().strip_prefix("CREATE TABLE ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// A read-model table and the columns of its primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub key: Vec<String>,
}

/// Drops `schema` and everything in it, if it exists.
pub async fn drop(conn: &mut PgConnection, schema: &str) -> Result<(), Error> {
    let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", ident(schema)?);
    run(conn, &sql, "drop a projection schema").await
}

/// Replaces the live schema of `projection` with its rebuilt one, inside the
/// caller's transaction: both renames and the drop commit together.
pub async fn swap_in_rebuild(conn: &mut PgConnection, projection: &str) -> Result<(), Error> {
    let live = live(projection);
    let aside = aside(projection);
    let old = format!("rm_{projection}__old");
    let (live_q, aside_q, old_q) = (ident(&live)?, ident(&aside)?, ident(&old)?);
    let mut sql = format!("DROP SCHEMA IF EXISTS {old_q} CASCADE;\n");
    if exists(conn, &live).await? {
        // The live worker keeps its lease across the swap: same epoch.
        crate::checkpoint::upgrade(conn, &live).await?;
        sql.push_str(&format!(
            "UPDATE {aside_q}.{CHECKPOINT_TABLE} SET lease_epoch = \
             (SELECT lease_epoch FROM {live_q}.{CHECKPOINT_TABLE});\n\
             ALTER SCHEMA {live_q} RENAME TO {old_q};\n"
        ));
    }
    sql.push_str(&format!(
        "ALTER SCHEMA {aside_q} RENAME TO {live_q};\nDROP SCHEMA IF EXISTS {old_q} CASCADE;"
    ));
    run(conn, &sql, "swap in the rebuilt projection").await
}

/// Points unqualified table names of this transaction at `schema`.
pub async fn use_schema(conn: &mut PgConnection, schema: &str) -> Result<(), Error> {
    let sql = format!("SET LOCAL search_path TO {}", ident(schema)?);
    run(conn, &sql, "select the projection schema").await
}

/// Runs `sql` as [`script`] does, naming `context` if it fails.
async fn run(conn: &mut PgConnection, sql: &str, context: &'static str) -> Result<(), Error> {
    script(conn, sql).await.map_err(Error::db(context))
}

/// Runs `sql`, one or more statements without parameters (simple query
/// protocol). Callers build it from checked identifiers only.
pub async fn script(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    conn.execute(sql).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_projections_tables_are_read_from_its_ddl() {
        for projection in crate::projections::all() {
            let ddl = projection.ddl();
            let names: Vec<String> = crate::ddl::statements(ddl)
                .iter()
                .filter_map(|s| super::created_table(s))
                .collect();
            assert_eq!(
                names.len(),
                ddl.matches("CREATE TABLE ").count(),
                "{}: {names:?}",
                projection.name()
            );
        }
    }
}
