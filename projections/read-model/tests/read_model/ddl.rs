//! Each read-model table has one row type, and the type matches the table's
//! DDL as PostgreSQL has it after migration: the same columns, types the
//! driver decodes, and `Option` exactly where the column takes NULL.

use crate::support::TestDb;
use deedlog_read_model::row::{fields, Field, Row, Shape};
use deedlog_read_model::{
    analytics, communications, deals, notifications, properties, tenancy, timeline,
};
use std::collections::{BTreeMap, BTreeSet};

struct Checked {
    schema: &'static str,
    table: &'static str,
    fields: Vec<Field>,
}

fn checked<T: Row>() -> Checked {
    Checked {
        schema: T::SCHEMA,
        table: T::TABLE,
        fields: fields::<T>(),
    }
}

/// Every row type of the crate. A table without one here fails the test.
fn row_types() -> Vec<Checked> {
    vec![
        checked::<properties::PropertyRow>(),
        checked::<properties::PriceChangeRow>(),
        checked::<properties::ValuationRow>(),
        checked::<deals::DealRow>(),
        checked::<deals::StageChangeRow>(),
        checked::<deals::ScenarioRow>(),
        checked::<communications::ContactRow>(),
        checked::<communications::ComplianceRow>(),
        checked::<communications::SuppressionRow>(),
        checked::<communications::MessageRow>(),
        checked::<communications::ConversationRow>(),
        checked::<tenancy::TenantRow>(),
        checked::<tenancy::ModuleRow>(),
        checked::<tenancy::UserRow>(),
        checked::<tenancy::RoleChangeRow>(),
        checked::<timeline::EntryRow>(),
        checked::<timeline::ActorRow>(),
        checked::<timeline::ScenarioNameRow>(),
        checked::<analytics::DealStateRow>(),
        checked::<analytics::PipelineRow>(),
        checked::<analytics::FunnelRow>(),
        checked::<analytics::LeaderRow>(),
        checked::<analytics::PriceChangeWeekRow>(),
        checked::<analytics::MessageWeekRow>(),
        checked::<notifications::NotificationRow>(),
        checked::<notifications::ReadMarkRow>(),
        checked::<notifications::DealAgentRow>(),
        checked::<notifications::PropertyAgentRow>(),
        checked::<notifications::ConversationLinkRow>(),
    ]
}

/// Whether sqlx decodes a column of `udt` (PostgreSQL's type name) into a
/// field of `shape`.
fn decodes(shape: Shape, udt: &str) -> bool {
    match shape {
        Shape::Bool => udt == "bool",
        Shape::I16 => udt == "int2",
        Shape::I32 => udt == "int4",
        Shape::I64 => udt == "int8",
        Shape::F64 => udt == "float8",
        Shape::Text => matches!(udt, "text" | "varchar" | "uuid" | "timestamptz" | "date"),
        Shape::Array => udt.starts_with('_'),
        Shape::Json => matches!(udt, "json" | "jsonb"),
    }
}

/// (schema, table) → column → (udt name, nullable), for the `rm_*` tables.
type Catalog = BTreeMap<(String, String), BTreeMap<String, (String, bool)>>;

async fn catalog(db: &TestDb) -> Catalog {
    let columns: Vec<(String, String, String, String, bool)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.udt_name::text, \
                c.is_nullable = 'YES' \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE c.table_schema LIKE 'rm\\_%' AND t.table_type = 'BASE TABLE'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("read the catalog");
    let mut catalog = Catalog::new();
    for (schema, table, column, udt, nullable) in columns {
        catalog
            .entry((schema, table))
            .or_default()
            .insert(column, (udt, nullable));
    }
    catalog
}

/// What is wrong with one row type against the catalog, in words.
fn problems(row: &Checked, catalog: &Catalog) -> Vec<String> {
    let name = format!("{}.{}", row.schema, row.table);
    let Some(columns) = catalog.get(&(row.schema.to_owned(), row.table.to_owned())) else {
        return vec![format!("{name}: no such table")];
    };
    let mut found = Vec::new();
    let named: BTreeSet<&str> = row.fields.iter().map(|f| f.name).collect();
    for column in columns.keys() {
        if !named.contains(column.as_str()) {
            found.push(format!("{name}.{column}: a column the row type lacks"));
        }
    }
    for field in &row.fields {
        let Some((udt, nullable)) = columns.get(field.name) else {
            found.push(format!("{name}.{}: a field with no column", field.name));
            continue;
        };
        if !decodes(field.shape, udt) {
            found.push(format!(
                "{name}.{}: a {udt} column read as {:?}",
                field.name, field.shape
            ));
        }
        if field.nullable != *nullable {
            found.push(format!(
                "{name}.{}: the column {} NULL but the field {} an Option",
                field.name,
                if *nullable { "takes" } else { "refuses" },
                if field.nullable { "is" } else { "is not" },
            ));
        }
    }
    found
}

#[tokio::test]
async fn every_row_type_matches_its_tables_ddl_and_every_table_has_one() {
    let db = TestDb::new().await;
    db.project_all().await;
    let catalog = catalog(&db).await;
    let rows = row_types();
    let mut found: Vec<String> = rows.iter().flat_map(|r| problems(r, &catalog)).collect();
    let typed: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.schema.to_owned(), r.table.to_owned()))
        .collect();
    for (schema, table) in catalog.keys() {
        // The projector's own bookkeeping (`checkpoint.rs`), not a read model.
        if table == "checkpoint" {
            continue;
        }
        if !typed.contains(&(schema.clone(), table.clone())) {
            found.push(format!("{schema}.{table}: a table with no row type"));
        }
    }
    assert!(catalog.len() >= 20, "the read models' tables: {catalog:?}");
    assert!(
        found.is_empty(),
        "row types and DDL disagree:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_row_types_column_list_is_its_fields_in_order() {
    assert!(properties::PriceChangeRow::columns().starts_with("tenant_id, property_id, position"));
    assert_eq!(
        tenancy::ModuleRow::columns(),
        "tenant_id, module, enabled, changed_at, changed_by, last_position"
    );
}
