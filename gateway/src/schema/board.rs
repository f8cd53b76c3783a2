//! The deals list and the kanban board: deals filtered and ordered, a page
//! at a time, and the board as one such list per stage column, each paged
//! on its own. A page reads its cards' properties, buyers and agents in
//! its own transaction, one statement per kind.

use super::deals::{Deal, Preloaded};
use super::enums::{stored_name, DealStage};
use super::page::{connection, page, Connection, Count};
use super::reads::scope;
use crate::error::{bad_input, from_read};
use crate::viewer::allowed;
use async_graphql::{Context, Enum, InputObject, Object, Result};
use chrono::NaiveDate;
use deedlog_kernel::Role;
use deedlog_read_model::communications::ContactRow;
use deedlog_read_model::deal_list::{self as rm, DealOrder as Order, DealStatus as Status};
use deedlog_read_model::deals::DealRow;
use deedlog_read_model::properties::PropertyRow;
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::{communications, properties, tenancy, Int64, TenantScope};
use std::collections::HashMap;
use uuid::Uuid;

const READ: &str = "read deals";

/// Which deals to list; every field set narrows the list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct DealFilter {
    /// In this stage: one column of the board.
    pub stage: Option<DealStage>,
    /// In one of these stages.
    pub stages: Option<Vec<DealStage>>,
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
    pub min_offer_minor: Option<Int64>,
    /// An offer of at most this, in minor units.
    pub max_offer_minor: Option<Int64>,
}

/// Open, won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

/// How to order deals; ties go by deal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
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

impl DealFilter {
    fn read_model(self, order: DealOrder) -> rm::DealFilter {
        rm::DealFilter {
            stage: self.stage.map(stored_name),
            stages: self
                .stages
                .map(|stages| stages.into_iter().map(stored_name).collect()),
            agent_id: self.agent_id,
            property_id: self.property_id,
            buyer_contact_id: self.buyer_contact_id,
            status: self.status.map(|s| match s {
                DealStatus::Open => Status::Open,
                DealStatus::Won => Status::Won,
                DealStatus::Lost => Status::Lost,
            }),
            expected_close_from: self.expected_close_from,
            expected_close_to: self.expected_close_to,
            min_offer_minor: self.min_offer_minor.map(i64::from),
            max_offer_minor: self.max_offer_minor.map(i64::from),
            order: match order {
                DealOrder::UpdatedDesc => Order::UpdatedDesc,
                DealOrder::CreatedDesc => Order::CreatedDesc,
                DealOrder::OfferDesc => Order::OfferDesc,
                DealOrder::ExpectedCloseAsc => Order::ExpectedCloseAsc,
                DealOrder::StageEnteredAsc => Order::StageEnteredAsc,
            },
        }
    }
}

/// The open stages: the board's columns unless asked otherwise.
const OPEN_STAGES: [DealStage; 6] = [
    DealStage::Lead,
    DealStage::Qualified,
    DealStage::Viewing,
    DealStage::Offer,
    DealStage::Negotiation,
    DealStage::UnderContract,
];

/// A page of the deals `filter` keeps, for a viewer who may read records.
async fn deals_page(
    ctx: &Context<'_>,
    filter: rm::DealFilter,
    page: deedlog_read_model::Page,
) -> Result<Connection<Deal>> {
    let viewer = allowed(ctx, Role::may_read_records, READ)?;
    let mut scope = scope(ctx, viewer).await?;
    let rows = rm::list(scope.conn(), &filter, &page)
        .await
        .map_err(from_read)?;
    let with = preload(ctx, &mut scope, &rows).await.map_err(from_read)?;
    scope.finish().await.map_err(from_read)?;
    Ok(connection(rows, Count::Deals(filter), |record| {
        with.card(record)
    }))
}

/// The properties, buyers and agents of a page of deals, each kind in one
/// statement of the page's own transaction, for the fields the query asks
/// for: a board's cards then cost no loader a transaction of its own.
async fn preload(
    ctx: &Context<'_>,
    scope: &mut TenantScope,
    page: &deedlog_read_model::Connection<DealRow>,
) -> Result<Cards, deedlog_read_model::Error> {
    let node = ctx.look_ahead().field("edges").field("node");
    let ids = |id: fn(&DealRow) -> Uuid| -> Vec<Uuid> { page.nodes().map(id).collect() };
    let mut cards = Cards::default();
    if node.field("property").exists() {
        let rows = properties::get_many(scope.conn(), &ids(|d| d.property_id)).await?;
        cards.properties = Some(rows.into_iter().map(|r| (r.property_id, r)).collect());
    }
    if node.field("buyer").exists() {
        let rows = communications::get_many(scope.conn(), &ids(|d| d.buyer_contact_id)).await?;
        cards.buyers = Some(rows.into_iter().map(|r| (r.contact_id, r)).collect());
    }
    if node.field("agent").exists() {
        let rows = tenancy::users_by_ids(scope.conn(), &ids(|d| d.agent_id)).await?;
        cards.agents = Some(rows.into_iter().map(|r| (r.user_id, r)).collect());
    }
    Ok(cards)
}

/// The rows [`preload`] read, by id; a kind not asked for is `None`.
#[derive(Default)]
struct Cards {
    properties: Option<HashMap<Uuid, PropertyRow>>,
    buyers: Option<HashMap<Uuid, ContactRow>>,
    agents: Option<HashMap<Uuid, UserRow>>,
}

impl Cards {
    fn card(&self, record: DealRow) -> Deal {
        let with = Preloaded {
            property: self
                .properties
                .as_ref()
                .map(|rows| rows.get(&record.property_id).cloned()),
            buyer: self
                .buyers
                .as_ref()
                .map(|rows| rows.get(&record.buyer_contact_id).cloned()),
            agent: self
                .agents
                .as_ref()
                .map(|rows| rows.get(&record.agent_id).cloned()),
        };
        Deal { record, with }
    }
}

/// One column of the kanban board: the deals of one stage.
#[derive(Debug, Clone)]
pub struct BoardColumn {
    stage: DealStage,
    /// The board's filter with this column's stage.
    filter: rm::DealFilter,
}

#[Object]
impl BoardColumn {
    /// The column's stage.
    async fn stage(&self) -> DealStage {
        self.stage
    }

    /// The column's cards, a page at a time (`first` or `last` 1–100),
    /// in the board's order; `totalCount` is the column's size.
    async fn deals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Deal>> {
        let page = page(first, after, last, before)?;
        deals_page(ctx, self.filter.clone(), page).await
    }
}

#[derive(Debug, Default)]
pub struct BoardQuery;

#[Object]
impl BoardQuery {
    /// The tenant's deals, filtered and ordered, a page at a time (`first`
    /// or `last` 1–100).
    #[allow(clippy::too_many_arguments)]
    async fn deals(
        &self,
        ctx: &Context<'_>,
        filter: Option<DealFilter>,
        #[graphql(default)] order: DealOrder,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Deal>> {
        let page = page(first, after, last, before)?;
        let filter = filter.unwrap_or_default().read_model(order);
        deals_page(ctx, filter, page).await
    }

    /// The kanban board: one column per stage (the open stages in pipeline
    /// order, or the filter's `stages`), each with its own page of cards.
    /// The filter's other fields narrow every column.
    async fn board(
        &self,
        ctx: &Context<'_>,
        filter: Option<DealFilter>,
        #[graphql(default)] order: DealOrder,
    ) -> Result<Vec<BoardColumn>> {
        allowed(ctx, Role::may_read_records, READ)?;
        let mut filter = filter.unwrap_or_default();
        if filter.stage.is_some() {
            return Err(bad_input(
                "filter.stage picks one column; name the board's columns with filter.stages, \
                 or list one stage's deals with `deals(filter: {stage: …})`",
            ));
        }
        let stages = filter.stages.take().unwrap_or_else(|| OPEN_STAGES.to_vec());
        if stages.is_empty() {
            return Err(bad_input(
                "filter.stages names no column; name at least one stage or leave it out",
            ));
        }
        let filter = filter.read_model(order);
        let mut columns: Vec<BoardColumn> = Vec::with_capacity(stages.len());
        for stage in stages {
            if columns.iter().any(|c| c.stage == stage) {
                continue;
            }
            let mut filter = filter.clone();
            filter.stage = Some(stored_name(stage));
            columns.push(BoardColumn { stage, filter });
        }
        Ok(columns)
    }
}
