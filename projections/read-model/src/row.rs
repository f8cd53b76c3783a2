//! One row type per read-model table, written once: the projector fills
//! and writes these types, the API reads them, and the column list of every
//! query is derived from the type's fields. `tests/read_model/ddl.rs`
//! checks each type against its table's DDL (names, types, NULLs).

mod probe;

pub use probe::{fields, Field, Shape};

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

/// Implements [`Row`] for a struct: `row!(PropertyRow, "rm_properties", "properties");`
/// The column list is computed once, from the struct's fields.
macro_rules! row {
    ($row:ty, $schema:literal, $table:literal) => {
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
