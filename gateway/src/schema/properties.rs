//! Properties: the list with filters, sorts and cursor pages; one property
//! with its agent, price and valuation history and timeline.

use super::enums::{stored_name, ListingStatus, PropertyKind};
use super::loaders::{PriceHistoryKey, TenantLoader, UserKey, ValuationsKey};
use super::page::{connection, page, Connection, Count};
use super::reads::{found, record_scope, scope};
use crate::error::from_read;
use crate::viewer::allowed;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, Enum, InputObject, Json, Object, Result, SimpleObject,
};
use deedlog_kernel::Role;
use deedlog_read_model::properties::{self as rm, PropertyRow, PropertySort};
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::timeline::{self, EntryRow};
use deedlog_read_model::Int64;
use deedlog_read_model::TenantScope;
use uuid::Uuid;

const READ: &str = "read properties";

/// A property as the properties read model has it.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Property {
    #[graphql(flatten)]
    pub record: PropertyRow,
}

impl Property {
    /// The property with this id in the scope's tenant; NOT_FOUND when there is none.
    pub async fn read(scope: &mut TenantScope, id: Uuid) -> Result<Self> {
        found(rm::get(scope.conn(), id).await, "property", |record| {
            Property { record }
        })
    }
}

#[ComplexObject]
impl Property {
    /// Where each attribute came from: `{"rooms": {"source": "provider", …}}`.
    async fn attribute_sources(&self) -> Json<serde_json::Value> {
        Json(self.record.attribute_sources.clone())
    }

    /// The assigned agent, if any (read with the page's other agents).
    async fn agent(&self, ctx: &Context<'_>) -> Result<Option<UserRow>> {
        let Some(agent) = self.record.agent_id else {
            return Ok(None);
        };
        ctx.data::<DataLoader<TenantLoader>>()?
            .load_one(UserKey(agent))
            .await
    }

    /// Every asking price, oldest first.
    async fn price_history(&self, ctx: &Context<'_>) -> Result<Vec<rm::PriceChangeRow>> {
        batched(ctx, PriceHistoryKey(self.record.property_id)).await
    }

    /// Every valuation, oldest first.
    async fn valuations(&self, ctx: &Context<'_>) -> Result<Vec<rm::ValuationRow>> {
        batched(ctx, ValuationsKey(self.record.property_id)).await
    }

    /// The property's events in words, oldest first.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<EntryRow>> {
        let page = page(first, after, last, before)?;
        timeline_of(ctx, self.record.property_id, page).await
    }
}

/// The rows the tenant's batching loader holds for `key` (none: empty),
/// to a viewer who may read properties.
pub async fn batched<K, V>(ctx: &Context<'_>, key: K) -> Result<Vec<V>>
where
    TenantLoader: Loader<K, Value = Vec<V>, Error = async_graphql::Error>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    allowed(ctx, Role::may_read_records, READ)?;
    let loader = ctx.data::<DataLoader<TenantLoader>>()?;
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// A record's timeline page (properties, deals and contacts share it).
pub async fn timeline_of(
    ctx: &Context<'_>,
    record: Uuid,
    page: deedlog_read_model::Page,
) -> Result<Connection<EntryRow>> {
    let mut scope = record_scope(ctx, "read timelines").await?;
    let rows = timeline::entries(scope.conn(), record, &page)
        .await
        .map_err(from_read)?;
    Ok(connection(rows, Count::Timeline(record), |row| row))
}

/// Which properties to list.
#[derive(Debug, Default, InputObject)]
pub struct PropertyFilter {
    /// Listed with this status (a property's `listingStatus` reads it in
    /// lower case, e.g. `under_contract`).
    pub status: Option<ListingStatus>,
    /// Of this kind (a property's `kind` reads it in lower case, e.g.
    /// `multi_family`).
    pub kind: Option<PropertyKind>,
    pub city: Option<String>,
    /// Lowest asking price in minor units.
    pub min_price_minor: Option<Int64>,
    pub max_price_minor: Option<Int64>,
    pub agent_id: Option<Uuid>,
    pub tag: Option<String>,
    /// Words of the address (full-text).
    pub text: Option<String>,
}

/// How to order the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
pub enum PropertyOrder {
    #[default]
    CreatedDesc,
    PriceAsc,
    PriceDesc,
    UpdatedDesc,
}

impl From<PropertyOrder> for PropertySort {
    fn from(order: PropertyOrder) -> Self {
        match order {
            PropertyOrder::CreatedDesc => Self::CreatedDesc,
            PropertyOrder::PriceAsc => Self::PriceAsc,
            PropertyOrder::PriceDesc => Self::PriceDesc,
            PropertyOrder::UpdatedDesc => Self::UpdatedDesc,
        }
    }
}

#[derive(Debug, Default)]
pub struct PropertiesQuery;

#[Object]
impl PropertiesQuery {
    /// The tenant's properties, a page at a time (`first` or `last` 1–100).
    #[allow(clippy::too_many_arguments)]
    async fn properties(
        &self,
        ctx: &Context<'_>,
        filter: Option<PropertyFilter>,
        #[graphql(default)] order: PropertyOrder,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Property>> {
        let viewer = allowed(ctx, Role::may_read_records, READ)?;
        let f = filter.unwrap_or_default();
        let filter = rm::PropertyFilter {
            status: f.status.map(stored_name),
            kind: f.kind.map(stored_name),
            city: f.city,
            min_price_minor: f.min_price_minor.map(i64::from),
            max_price_minor: f.max_price_minor.map(i64::from),
            agent_id: f.agent_id,
            tag: f.tag,
            text: f.text,
            sort: order.into(),
        };
        let mut scope = scope(ctx, viewer).await?;
        let rows = rm::list(scope.conn(), &filter, &page(first, after, last, before)?)
            .await
            .map_err(from_read)?;
        Ok(connection(rows, Count::Properties(filter), |record| {
            Property { record }
        }))
    }

    /// One property; NOT_FOUND when the tenant has none with this id.
    async fn property(&self, ctx: &Context<'_>, id: Uuid) -> Result<Property> {
        let mut scope = record_scope(ctx, READ).await?;
        Property::read(&mut scope, id).await
    }
}
