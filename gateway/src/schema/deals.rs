//! Deals: the pipeline board, one deal with its property, stage history and
//! timeline.

use super::communications::Contact;
use super::loaders::{ContactKey, PropertyKey, ScenariosKey, TenantLoader, UserKey};
use super::page::{page, Connection};
use super::properties::{timeline_of, Property};
use super::reads::{found, record_scope};
use super::scenarios::Scenario;
use crate::error::from_read;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use deedlog_read_model::communications::ContactRow;
use deedlog_read_model::deals::{self as rm, DealRow, StageChangeRow, StageColumn};
use deedlog_read_model::properties::PropertyRow;
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::timeline::EntryRow;
use deedlog_read_model::TenantScope;
use uuid::Uuid;

const READ: &str = "read deals";

/// A deal as the deals read model has it.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Deal {
    #[graphql(flatten)]
    pub record: DealRow,
    /// What a list read with the deal, in its own transaction.
    #[graphql(skip)]
    pub with: Preloaded,
}

/// The rows a page of deals read beside them (`Some` once read, holding
/// `None` when the row is missing), so that its cards need no loader's
/// transaction; a deal read alone has none and its fields use the loaders.
#[derive(Debug, Clone, Default)]
pub struct Preloaded {
    pub property: Option<Option<PropertyRow>>,
    pub buyer: Option<Option<ContactRow>>,
    pub agent: Option<Option<UserRow>>,
}

impl From<DealRow> for Deal {
    fn from(record: DealRow) -> Self {
        Deal {
            record,
            with: Preloaded::default(),
        }
    }
}

impl Deal {
    /// The deal with this id in the scope's tenant; NOT_FOUND when there is none.
    pub async fn read(scope: &mut TenantScope, id: Uuid) -> Result<Self> {
        found(rm::get(scope.conn(), id).await, "deal", Deal::from)
    }
}

#[ComplexObject]
impl Deal {
    /// The property the deal is about.
    async fn property(&self, ctx: &Context<'_>) -> Result<Option<Property>> {
        let row = match &self.with.property {
            Some(row) => row.clone(),
            None => {
                let loader = ctx.data::<DataLoader<TenantLoader>>()?;
                loader
                    .load_one(PropertyKey(self.record.property_id))
                    .await?
            }
        };
        Ok(row.map(|record| Property { record }))
    }

    /// The buyer or investor.
    async fn buyer(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let row = match &self.with.buyer {
            Some(row) => row.clone(),
            None => {
                let loader = ctx.data::<DataLoader<TenantLoader>>()?;
                loader
                    .load_one(ContactKey(self.record.buyer_contact_id))
                    .await?
            }
        };
        Ok(row.map(|record| Contact { record }))
    }

    /// The owning agent.
    async fn agent(&self, ctx: &Context<'_>) -> Result<Option<UserRow>> {
        if let Some(row) = &self.with.agent {
            return Ok(row.clone());
        }
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        loader.load_one(UserKey(self.record.agent_id)).await
    }

    /// The what-if scenarios the deal keeps, in the order they were added,
    /// with the figures the deals context gives them at the deal's current
    /// probability. The scenarios of every deal an answer shows are read in
    /// one statement.
    async fn scenarios(&self, ctx: &Context<'_>) -> Result<Vec<Scenario>> {
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        let rows = loader
            .load_one(ScenariosKey(self.record.deal_id))
            .await?
            .unwrap_or_default();
        rows.into_iter().map(Scenario::from_row).collect()
    }

    /// Every stage change, oldest first.
    async fn stage_history(&self, ctx: &Context<'_>) -> Result<Vec<StageChangeRow>> {
        let mut scope = record_scope(ctx, READ).await?;
        rm::stage_history(scope.conn(), self.record.deal_id)
            .await
            .map_err(from_read)
    }

    /// The deal's events in words, oldest first.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<EntryRow>> {
        let page = page(first, after, last, before)?;
        timeline_of(ctx, self.record.deal_id, page).await
    }
}

#[derive(Debug, Default)]
pub struct DealsQuery;

#[Object]
impl DealsQuery {
    /// The pipeline board: open deals per stage and currency with count,
    /// total and weighted value.
    async fn pipeline(&self, ctx: &Context<'_>) -> Result<Vec<StageColumn>> {
        let mut scope = record_scope(ctx, READ).await?;
        rm::board(scope.conn()).await.map_err(from_read)
    }

    /// One deal; NOT_FOUND when the tenant has none with this id.
    async fn deal(&self, ctx: &Context<'_>, id: Uuid) -> Result<Deal> {
        let mut scope = record_scope(ctx, READ).await?;
        Deal::read(&mut scope, id).await
    }
}
