//! The deals list behind the kanban board and every deal table: filters,
//! orders, and pages in either direction.

use crate::deals::DealRow;
use crate::error::Error;
use crate::list::{Key, KeyKind, Listing, Order};
use crate::page::{Connection, Page};
use crate::where_clause::{Bind, WhereClause};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// Every stage, in pipeline order.
pub const STAGES: [&str; 8] = [
    "lead",
    "qualified",
    "viewing",
    "offer",
    "negotiation",
    "under_contract",
    "closed_won",
    "closed_lost",
];

/// Open, won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// In one of the open stages.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

/// The order of the list. Ties are broken by `deal_id`, so the order is
/// total and a cursor names one place in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealOrder {
    /// Most recently changed first.
    #[default]
    UpdatedDesc,
    /// Newest first.
    CreatedDesc,
    /// Largest offer first; deals without an offer last.
    OfferDesc,
    /// Soonest expected close first; deals without a date last.
    ExpectedCloseAsc,
    /// Longest in their stage first.
    StageEnteredAsc,
}

const TIME_ID: &[KeyKind] = &[KeyKind::Time, KeyKind::Id];
const INT_ID: &[KeyKind] = &[KeyKind::Int, KeyKind::Id];
/// The epoch as a day, for expected-close keys in days.
const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");

impl DealOrder {
    fn order(self) -> Order {
        match self {
            Self::UpdatedDesc => Order::desc("updated_desc", &["updated_at", "deal_id"], TIME_ID),
            Self::CreatedDesc => Order::desc("created_desc", &["created_at", "deal_id"], TIME_ID),
            Self::OfferDesc => Order::desc(
                "offer_desc",
                &["COALESCE(offer_minor, -1)", "deal_id"],
                INT_ID,
            ),
            // Days since the epoch; no date sorts after every date.
            Self::ExpectedCloseAsc => Order::asc(
                "expected_close_asc",
                &[
                    "COALESCE(expected_close - DATE '1970-01-01', 2147483647)",
                    "deal_id",
                ],
                INT_ID,
            ),
            Self::StageEnteredAsc => Order::asc(
                "stage_entered_asc",
                &["stage_entered_at", "deal_id"],
                TIME_ID,
            ),
        }
    }

    /// The row's sort key, as its cursor carries it.
    fn key(self, row: &DealRow) -> Vec<Key> {
        let first = match self {
            Self::UpdatedDesc => Key::Time(row.updated_at),
            Self::CreatedDesc => Key::Time(row.created_at),
            Self::OfferDesc => Key::Int(row.offer_minor.map_or(-1, i64::from)),
            Self::ExpectedCloseAsc => Key::Int(
                row.expected_close
                    .map_or(2_147_483_647, |d| (d - EPOCH).num_days()),
            ),
            Self::StageEnteredAsc => Key::Time(row.stage_entered_at),
        };
        vec![first, Key::Id(row.deal_id)]
    }
}

/// Which deals the list shows; every field set narrows it (all must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealFilter {
    /// In this stage (one column of the board).
    pub stage: Option<String>,
    /// In one of these stages.
    pub stages: Option<Vec<String>>,
    /// Owned by this agent.
    pub agent_id: Option<Uuid>,
    /// About this property.
    pub property_id: Option<Uuid>,
    /// With this buyer or investor.
    pub buyer_contact_id: Option<Uuid>,
    /// Open, won or lost.
    pub status: Option<DealStatus>,
    /// Expected to close on or after this day.
    pub expected_close_from: Option<NaiveDate>,
    /// Expected to close on or before this day.
    pub expected_close_to: Option<NaiveDate>,
    /// An offer of at least this, in minor units.
    pub min_offer_minor: Option<i64>,
    /// An offer of at most this, in minor units.
    pub max_offer_minor: Option<i64>,
    /// The order.
    pub order: DealOrder,
}

/// A page of the deals list.
pub async fn list(
    conn: &mut PgConnection,
    filter: &DealFilter,
    page: &Page,
) -> Result<Connection<DealRow>, Error> {
    let order = filter.order;
    listing(filter)?
        .page_by_key(conn, page, |row| order.key(row), "list deals")
        .await
}

/// How many deals the filter keeps.
pub async fn count(conn: &mut PgConnection, filter: &DealFilter) -> Result<i64, Error> {
    listing(filter)?.count(conn, "count deals").await
}

fn check_stage(field: &'static str, stage: &str) -> Result<(), Error> {
    if STAGES.contains(&stage) {
        Ok(())
    } else {
        Err(Error::bad_input(
            field,
            format!(
                "{stage:?} is not a stage; the stages are {}",
                STAGES.join(", ")
            ),
        ))
    }
}

/// The list's statements, the filter checked.
fn listing(filter: &DealFilter) -> Result<Listing, Error> {
    if let (Some(min), Some(max)) = (filter.min_offer_minor, filter.max_offer_minor) {
        if min > max {
            return Err(Error::bad_input(
                "min_offer_minor",
                format!("the lowest offer ({min}) is above the highest ({max})"),
            ));
        }
    }
    if let (Some(from), Some(to)) = (filter.expected_close_from, filter.expected_close_to) {
        if from > to {
            return Err(Error::bad_input(
                "expected_close_from",
                format!("the range starts ({from}) after it ends ({to})"),
            ));
        }
    }
    // Dynamic SQL, safe by construction: see `WhereClause`.
    let mut filters = WhereClause::default();
    if let Some(stage) = &filter.stage {
        check_stage("stage", stage)?;
        filters.add("stage = {}", Bind::Text(stage.clone()));
    }
    if let Some(stages) = &filter.stages {
        if stages.is_empty() {
            return Err(Error::bad_input(
                "stages",
                "name at least one stage, or leave the filter out".to_owned(),
            ));
        }
        for stage in stages {
            check_stage("stages", stage)?;
        }
        filters.add("stage = ANY({})", Bind::Texts(stages.clone()));
    }
    if let Some(agent) = filter.agent_id {
        filters.add("agent_id = {}", Bind::Id(agent));
    }
    if let Some(property) = filter.property_id {
        filters.add("property_id = {}", Bind::Id(property));
    }
    if let Some(buyer) = filter.buyer_contact_id {
        filters.add("buyer_contact_id = {}", Bind::Id(buyer));
    }
    match filter.status {
        None => {}
        Some(DealStatus::Open) => filters.condition("is_open".to_owned()),
        Some(DealStatus::Won) => filters.condition("stage = 'closed_won'".to_owned()),
        Some(DealStatus::Lost) => filters.condition("stage = 'closed_lost'".to_owned()),
    }
    if let Some(from) = filter.expected_close_from {
        filters.add("expected_close >= {}", Bind::Date(from));
    }
    if let Some(to) = filter.expected_close_to {
        filters.add("expected_close <= {}", Bind::Date(to));
    }
    if let Some(min) = filter.min_offer_minor {
        filters.add("offer_minor >= {}", Bind::Int(min));
    }
    if let Some(max) = filter.max_offer_minor {
        filters.add("offer_minor <= {}", Bind::Int(max));
    }
    Ok(Listing::of::<DealRow>(filters, filter.order.order()))
}

/// The deals with these ids (what a page's loader reads in one statement).
pub async fn get_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<DealRow>, Error> {
    crate::row::Query::rows("WHERE deal_id = ANY($1)")
        .bind(ids)
        .all(conn, "read deals by id")
        .await
}

/// The deals of these buyers, newest first, in one statement.
pub async fn of_buyers(conn: &mut PgConnection, buyers: &[Uuid]) -> Result<Vec<DealRow>, Error> {
    crate::row::Query::rows(
        "WHERE buyer_contact_id = ANY($1) ORDER BY created_at DESC, deal_id DESC",
    )
    .bind(buyers)
    .all(conn, "read the deals of contacts")
    .await
}
