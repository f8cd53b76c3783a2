//! One row type per read-model table, written once: the projector fills
//! and writes these types, the API reads them, and the column list of every
//! query is derived from the type's fields. `tests/read_model/ddl.rs`
//! checks each type against its table's DDL (names, types, NULLs).

mod probe;
mod query;

pub use probe::{fields, Field, Shape};
pub(crate) use query::Query;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A row of a read-model table. Field names are column names.
pub trait Row: Serialize + DeserializeOwned + Send + Unpin + 'static {
    /// The projection's live schema (`rm_properties`).
    const SCHEMA: &'static str;
    /// The table's name within it (`properties`).
    const TABLE: &'static str;

    /// The table's columns, comma-separated, in the order of the fields.
    fn columns() -> &'static str;
}

/// Defines a table's row type: the struct with the derives every row has
/// (serde, `FromRow`, and GraphQL output named `as "…"` behind the
/// `graphql` feature), and its [`Row`] impl, whose column list is computed
/// once from the fields. Every read-model row belongs to one tenant, so
/// the macro writes the first field, `tenant_id`, itself: row-level
/// security filters on it, and GraphQL never shows it.
///
/// ```ignore
/// row! {
///     /// A row of `rm_deals.deals`.
///     #[derive(Eq)]
///     pub struct DealRow as "DealRecord" in "rm_deals"."deals" { … }
/// }
/// ```
macro_rules! row {
    (
        $(#[$attr:meta])*
        pub struct $row:ident as $graphql:literal in $schema:literal . $table:literal { $($body:tt)* }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
        #[cfg_attr(
            feature = "graphql",
            derive(async_graphql::SimpleObject),
            graphql(name = $graphql)
        )]
        pub struct $row {
            #[cfg_attr(feature = "graphql", graphql(skip))]
            pub tenant_id: uuid::Uuid,
            $($body)*
        }
        $crate::row::row!(@impl $row, $schema, $table);
    };
    (
        $(#[$attr:meta])*
        pub struct $row:ident in $schema:literal . $table:literal { $($body:tt)* }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
        pub struct $row {
            pub tenant_id: uuid::Uuid,
            $($body)*
        }
        $crate::row::row!(@impl $row, $schema, $table);
    };
    (@impl $row:ty, $schema:literal, $table:literal) => {
        impl $crate::row::Row for $row {
            const SCHEMA: &'static str = $schema;
            const TABLE: &'static str = $table;

            fn columns() -> &'static str {
                static COLUMNS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                COLUMNS.get_or_init(|| {
                    $crate::row::fields::<$row>()
                        .iter()
                        .map(|field| field.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
            }
        }
    };
}
pub(crate) use row;

/// `SELECT <columns> FROM <schema>.<table>`, to which a query adds its
/// `WHERE` and `ORDER BY`. Names come from row types, never from input.
pub fn select<T: Row>() -> String {
    format!("SELECT {} FROM {}.{}", T::columns(), T::SCHEMA, T::TABLE)
}
