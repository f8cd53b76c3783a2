//! `rm_properties`: the properties list and detail, price history and
//! valuations.

mod list;

pub use list::{count, list, PropertyFilter, PropertySort, KINDS, LISTING_STATUSES};

use crate::error::Error;
use crate::int64::Int64;
use crate::row::{row, Query, Row};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// A row of `rm_properties.properties`.
    pub struct PropertyRow as "PropertyRecord" in "rm_properties"."properties" {
        pub property_id: Uuid,
        pub street: String,
        pub postal_code: String,
        pub city: String,
        pub country: String,
        pub latitude: Option<f64>,
        pub longitude: Option<f64>,
        pub kind: String,
        pub rooms: Option<i32>,
        pub bedrooms: Option<i32>,
        pub bathrooms: Option<i32>,
        pub living_area_m2: Option<i32>,
        pub plot_area_m2: Option<i32>,
        pub year_built: Option<i32>,
        #[cfg_attr(feature = "graphql", graphql(skip))]
        pub attribute_sources: serde_json::Value,
        pub asking_price_minor: Option<Int64>,
        pub currency: Option<String>,
        pub listing_status: String,
        pub agent_id: Option<Uuid>,
        pub owner_contact_id: Option<Uuid>,
        pub tags: Vec<String>,
        pub archived: bool,
        pub latest_valuation_minor: Option<Int64>,
        pub latest_valuation_currency: Option<String>,
        pub version: Int64,
        pub last_position: Int64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_properties.price_history`.
    #[derive(Eq)]
    pub struct PriceChangeRow as "PriceChange" in "rm_properties"."price_history" {
        pub property_id: Uuid,
        pub position: Int64,
        pub changed_at: DateTime<Utc>,
        pub changed_by: String,
        pub from_minor: Option<Int64>,
        pub to_minor: Int64,
        pub currency: String,
    }
}

row! {
    /// A row of `rm_properties.valuations`.
    #[derive(Eq)]
    pub struct ValuationRow as "Valuation" in "rm_properties"."valuations" {
        pub property_id: Uuid,
        pub position: Int64,
        pub valued_on: NaiveDate,
        pub value_minor: Int64,
        pub currency: String,
        pub source_kind: String,
        pub source_name: Option<String>,
        pub recorded_at: DateTime<Utc>,
    }
}

/// The properties with these ids (one statement for a page's worth, e.g.
/// the properties of a deal board); unknown ids are left out.
pub async fn get_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<PropertyRow>, Error> {
    Query::rows("WHERE property_id = ANY($1)")
        .bind(ids)
        .all(conn, "read properties by id")
        .await
}

/// One property, if the tenant has it.
pub async fn get(conn: &mut PgConnection, property_id: Uuid) -> Result<Option<PropertyRow>, Error> {
    Query::rows("WHERE property_id = $1")
        .bind(property_id)
        .optional(conn, "read a property")
        .await
}

/// Every asking price of a property, the first one first.
pub async fn price_history(
    conn: &mut PgConnection,
    property_id: Uuid,
) -> Result<Vec<PriceChangeRow>, Error> {
    price_histories(conn, &[property_id]).await
}

/// The price histories of these properties in one statement (a page's
/// worth), each oldest first.
pub async fn price_histories(
    conn: &mut PgConnection,
    property_ids: &[Uuid],
) -> Result<Vec<PriceChangeRow>, Error> {
    of_properties(conn, property_ids, "read price histories").await
}

/// Every valuation of a property, in the order recorded.
pub async fn valuations(
    conn: &mut PgConnection,
    property_id: Uuid,
) -> Result<Vec<ValuationRow>, Error> {
    valuations_of(conn, &[property_id]).await
}

/// The valuations of these properties in one statement, each oldest first.
pub async fn valuations_of(
    conn: &mut PgConnection,
    property_ids: &[Uuid],
) -> Result<Vec<ValuationRow>, Error> {
    of_properties(conn, property_ids, "read valuations").await
}

/// The rows of a per-property history table (price changes, valuations)
/// of these properties, grouped by property, each oldest first.
async fn of_properties<R>(
    conn: &mut PgConnection,
    property_ids: &[Uuid],
    context: &'static str,
) -> Result<Vec<R>, Error>
where
    R: Row + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Query::rows("WHERE property_id = ANY($1) ORDER BY property_id, position")
        .bind(property_ids)
        .all(conn, context)
        .await
}

/// The properties these contacts own, in one statement.
pub async fn owned_by(conn: &mut PgConnection, owners: &[Uuid]) -> Result<Vec<PropertyRow>, Error> {
    Query::rows("WHERE owner_contact_id = ANY($1) ORDER BY created_at, property_id")
        .bind(owners)
        .all(conn, "read the properties of owners")
        .await
}
