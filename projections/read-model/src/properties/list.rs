//! The properties list: its sort, filter and cursor, and the page query.

use super::PropertyRow;
use crate::error::Error;
use crate::list::{Key, KeyKind, Listing, Order};
use crate::page::{Connection, Page};
use crate::where_clause::{Bind, WhereClause};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// The order of the list. Ties are broken by `property_id`, so the order is
/// total and a cursor names one place in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertySort {
    /// Newest first.
    #[default]
    CreatedDesc,
    /// Cheapest first; properties without a price last.
    PriceAsc,
    /// Dearest first; properties without a price last.
    PriceDesc,
    /// Most recently changed first.
    UpdatedDesc,
}

impl PropertySort {
    fn name(self) -> &'static str {
        match self {
            Self::CreatedDesc => "created_desc",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
            Self::UpdatedDesc => "updated_desc",
        }
    }

    /// The row's sort key, as the cursor carries it.
    fn key(self, row: &PropertyRow) -> Vec<Key> {
        let first = match self {
            Self::CreatedDesc => Key::Time(row.created_at),
            Self::UpdatedDesc => Key::Time(row.updated_at),
            Self::PriceAsc => Key::Int(row.asking_price_minor.map_or(i64::MAX, i64::from)),
            Self::PriceDesc => Key::Int(row.asking_price_minor.map_or(-1, i64::from)),
        };
        vec![first, Key::Id(row.property_id)]
    }

    /// The order: prices compare with a stand-in for none so that
    /// unpriced properties sort last and stay reachable by a cursor.
    fn order(self) -> Order {
        match self {
            Self::CreatedDesc => Order::desc(self.name(), &["created_at", "property_id"], TIME_ID),
            Self::UpdatedDesc => Order::desc(self.name(), &["updated_at", "property_id"], TIME_ID),
            Self::PriceAsc => Order::asc(
                self.name(),
                &[
                    "COALESCE(asking_price_minor, 9223372036854775807)",
                    "property_id",
                ],
                INT_ID,
            ),
            Self::PriceDesc => Order::desc(
                self.name(),
                &["COALESCE(asking_price_minor, -1)", "property_id"],
                INT_ID,
            ),
        }
    }
}

const TIME_ID: &[KeyKind] = &[KeyKind::Time, KeyKind::Id];
const INT_ID: &[KeyKind] = &[KeyKind::Int, KeyKind::Id];

/// What the list shows; every field set narrows it (all must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyFilter {
    /// `listing_status`, e.g. `active`.
    pub status: Option<String>,
    /// `kind`, e.g. `apartment`.
    pub kind: Option<String>,
    /// The city, ignoring case.
    pub city: Option<String>,
    /// Asking price at least this, in minor units.
    pub min_price_minor: Option<i64>,
    /// Asking price at most this, in minor units.
    pub max_price_minor: Option<i64>,
    /// The assigned agent.
    pub agent_id: Option<Uuid>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Words that must all occur in the address (street, postal code, city,
    /// country).
    pub text: Option<String>,
    /// The order.
    pub sort: PropertySort,
}

/// The listing statuses a property can have (see `docs/read-models.md`).
pub const LISTING_STATUSES: [&str; 6] = [
    "draft",
    "active",
    "reserved",
    "under_contract",
    "sold",
    "withdrawn",
];

/// The kinds of property.
pub const KINDS: [&str; 5] = ["house", "apartment", "multi_family", "land", "commercial"];

/// Refuses a filter value that no row can have, naming the allowed ones:
/// a typo should not look like an empty result.
fn check_one_of(field: &'static str, value: Option<&str>, allowed: &[&str]) -> Result<(), Error> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(Error::bad_input(
            field,
            format!("{v:?} is not one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// A page of the properties list.
pub async fn list(
    conn: &mut PgConnection,
    filter: &PropertyFilter,
    page: &Page,
) -> Result<Connection<PropertyRow>, Error> {
    let sort = filter.sort;
    listing(filter)?
        .page_by_key(conn, page, |row| sort.key(row), "list properties")
        .await
}

/// How many properties the filter keeps.
pub async fn count(conn: &mut PgConnection, filter: &PropertyFilter) -> Result<i64, Error> {
    listing(filter)?.count(conn, "count properties").await
}

/// The list's statements, the filter checked.
fn listing(filter: &PropertyFilter) -> Result<Listing, Error> {
    if let (Some(min), Some(max)) = (filter.min_price_minor, filter.max_price_minor) {
        if min > max {
            return Err(Error::bad_input(
                "min_price_minor",
                format!("the lowest price ({min}) is above the highest ({max})"),
            ));
        }
    }
    check_one_of("status", filter.status.as_deref(), &LISTING_STATUSES)?;
    check_one_of("kind", filter.kind.as_deref(), &KINDS)?;
    // Dynamic SQL, safe by construction: see `WhereClause`.
    let mut filters = WhereClause::default();
    if let Some(status) = &filter.status {
        filters.add("listing_status = {}", Bind::Text(status.clone()));
    }
    if let Some(kind) = &filter.kind {
        filters.add("kind = {}", Bind::Text(kind.clone()));
    }
    if let Some(city) = &filter.city {
        // lower(city) is what properties_by_city indexes.
        filters.add("lower(city) = lower({})", Bind::Text(city.clone()));
    }
    if let Some(min) = filter.min_price_minor {
        filters.add("asking_price_minor >= {}", Bind::Int(min));
    }
    if let Some(max) = filter.max_price_minor {
        filters.add("asking_price_minor <= {}", Bind::Int(max));
    }
    if let Some(agent) = filter.agent_id {
        filters.add("agent_id = {}", Bind::Id(agent));
    }
    if let Some(tag) = &filter.tag {
        // `@>` is what the GIN index on tags serves.
        filters.add("tags @> ARRAY[{}::text]", Bind::Text(tag.clone()));
    }
    if let Some(text) = &filter.text {
        // The expression of the properties_address_search GIN index, exactly.
        filters.add(
            "to_tsvector('simple', street || ' ' || postal_code || ' ' || city || ' ' || country) \
             @@ plainto_tsquery('simple', {})",
            Bind::Text(text.clone()),
        );
    }
    Ok(Listing::of::<PropertyRow>(filters, filter.sort.order()))
}
