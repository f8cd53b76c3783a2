//! The properties list: its sort, filter and cursor, and the page query.

use super::PropertyRow;
use crate::error::Error;
use crate::page::{malformed_cursor, Connection, Page};
use crate::row::select;
use crate::where_clause::{Bind, WhereClause};
use chrono::DateTime;
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

    /// The row's sort key as the cursor carries it: microseconds since the
    /// epoch for the time sorts, the price (with the stand-in for none of
    /// [`Self::order`]) for the price sorts.
    fn key(self, row: &PropertyRow) -> i64 {
        match self {
            Self::CreatedDesc => row.created_at.timestamp_micros(),
            Self::UpdatedDesc => row.updated_at.timestamp_micros(),
            Self::PriceAsc => row.asking_price_minor.map_or(i64::MAX, i64::from),
            Self::PriceDesc => row.asking_price_minor.map_or(-1, i64::from),
        }
    }

    /// The ORDER BY and the keyset condition after a cursor (`{k}` and
    /// `{id}` are the binds of the cursor's key and property id). Prices
    /// are compared with a stand-in for none so that unpriced properties
    /// sort last and stay reachable by a cursor.
    fn order(self) -> (&'static str, &'static str) {
        match self {
            Self::CreatedDesc => (
                "created_at DESC, property_id DESC",
                "(created_at, property_id) < ({k}, {id})",
            ),
            Self::UpdatedDesc => (
                "updated_at DESC, property_id DESC",
                "(updated_at, property_id) < ({k}, {id})",
            ),
            Self::PriceAsc => (
                "COALESCE(asking_price_minor, 9223372036854775807) ASC, property_id ASC",
                "(COALESCE(asking_price_minor, 9223372036854775807), property_id) > ({k}, {id})",
            ),
            Self::PriceDesc => (
                "COALESCE(asking_price_minor, -1) DESC, property_id DESC",
                "(COALESCE(asking_price_minor, -1), property_id) < ({k}, {id})",
            ),
        }
    }

    fn is_time(self) -> bool {
        matches!(self, Self::CreatedDesc | Self::UpdatedDesc)
    }
}

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

/// A position in the list: the sort it was made for, the sort key and the
/// property id. Written `<sort>:<key>:<property id>`; callers treat it as
/// opaque.
struct Cursor {
    sort: PropertySort,
    key: i64,
    id: Uuid,
}

impl Cursor {
    fn of(sort: PropertySort, row: &PropertyRow) -> String {
        format!("{}:{}:{}", sort.name(), sort.key(row), row.property_id)
    }

    fn parse(text: &str) -> Result<Self, Error> {
        let mut parts = text.splitn(3, ':');
        let (Some(sort), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed_cursor(text));
        };
        let sort = [
            PropertySort::CreatedDesc,
            PropertySort::PriceAsc,
            PropertySort::PriceDesc,
            PropertySort::UpdatedDesc,
        ]
        .into_iter()
        .find(|s| s.name() == sort)
        .ok_or_else(|| malformed_cursor(text))?;
        let key = key.parse().map_err(|_| malformed_cursor(text))?;
        let id = Uuid::parse_str(id).map_err(|_| malformed_cursor(text))?;
        Ok(Self { sort, key, id })
    }
}

/// A page of the properties list.
pub async fn list(
    conn: &mut PgConnection,
    filter: &PropertyFilter,
    page: &Page,
) -> Result<Connection<PropertyRow>, Error> {
    let limit = page.limit()?;
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
    let sort = filter.sort;
    let after = page.after.as_deref().map(Cursor::parse).transpose()?;
    if let Some(cursor) = &after {
        if cursor.sort != sort {
            return Err(Error::bad_input(
                "after",
                format!(
                    "the cursor belongs to the list sorted by {}, not by {}",
                    cursor.sort.name(),
                    sort.name()
                ),
            ));
        }
    }

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
    let (order, keyset) = sort.order();
    if let Some(cursor) = &after {
        let key = if sort.is_time() {
            Bind::Time(
                DateTime::from_timestamp_micros(cursor.key)
                    .ok_or_else(|| malformed_cursor(page.after.as_deref().unwrap_or_default()))?,
            )
        } else {
            Bind::Int(cursor.key)
        };
        let key = filters.placeholder(key);
        let id = filters.placeholder(Bind::Id(cursor.id));
        filters.condition(keyset.replace("{k}", &key).replace("{id}", &id));
    }
    let limit_placeholder = filters.placeholder(Bind::Int(limit + 1));
    let filter_sql = filters.sql();
    let sql = format!(
        "{} {filter_sql} ORDER BY {order} LIMIT {limit_placeholder}",
        select::<PropertyRow>()
    );
    let rows = filters
        .bind_to(sqlx::query_as::<_, PropertyRow>(&sql))
        .fetch_all(conn)
        .await
        .map_err(Error::db("list properties"))?;
    Ok(Connection::from_rows(rows, limit, |row| {
        Cursor::of(sort, row)
    }))
}
