//! DataLoaders: the users, properties, contacts, deals, scenarios and messages a page
//! refers to are read in one statement per kind, whatever the page's size.

use crate::error::from_read;
use async_graphql::dataloader::Loader;
use deedlog_read_model::communications::{ContactRow, MessageRow};
use deedlog_read_model::deals::{DealRow, ScenarioRow};
use deedlog_read_model::properties::{PriceChangeRow, PropertyRow, ValuationRow};
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::{communications, deal_list, deals, properties, tenancy, TenantScope};
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// Loads rows of one tenant; made per request, for the viewer's tenant.
#[derive(Debug, Clone)]
pub struct TenantLoader {
    pub pool: PgPool,
    pub tenant: Uuid,
    /// Counts the transactions begun (exported as a metric).
    pub transactions: prometheus_client::metrics::counter::Counter,
}

impl Loader<UserKey> for TenantLoader {
    type Value = UserRow;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, UserRow>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(tenancy::users_by_ids(c, ids))
            })
            .await?;
        Ok(rows.into_iter().map(|r| (UserKey(r.user_id), r)).collect())
    }
}

impl Loader<PropertyKey> for TenantLoader {
    type Value = PropertyRow;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[PropertyKey],
    ) -> Result<HashMap<PropertyKey, PropertyRow>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(properties::get_many(c, ids))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (PropertyKey(r.property_id), r))
            .collect())
    }
}

impl Loader<PriceHistoryKey> for TenantLoader {
    type Value = Vec<PriceChangeRow>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[PriceHistoryKey],
    ) -> Result<HashMap<PriceHistoryKey, Self::Value>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(properties::price_histories(c, ids))
            })
            .await?;
        Ok(group(keys, rows, |r| PriceHistoryKey(r.property_id)))
    }
}

impl Loader<ValuationsKey> for TenantLoader {
    type Value = Vec<ValuationRow>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ValuationsKey],
    ) -> Result<HashMap<ValuationsKey, Self::Value>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(properties::valuations_of(c, ids))
            })
            .await?;
        Ok(group(keys, rows, |r| ValuationsKey(r.property_id)))
    }
}

impl Loader<ContactKey> for TenantLoader {
    type Value = ContactRow;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ContactKey],
    ) -> Result<HashMap<ContactKey, ContactRow>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(communications::get_many(c, ids))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (ContactKey(r.contact_id), r))
            .collect())
    }
}

impl Loader<DealKey> for TenantLoader {
    type Value = DealRow;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[DealKey]) -> Result<HashMap<DealKey, DealRow>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(deal_list::get_many(c, ids))
            })
            .await?;
        Ok(rows.into_iter().map(|r| (DealKey(r.deal_id), r)).collect())
    }
}

impl Loader<DealsOfBuyerKey> for TenantLoader {
    type Value = Vec<DealRow>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[DealsOfBuyerKey],
    ) -> Result<HashMap<DealsOfBuyerKey, Self::Value>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(deal_list::of_buyers(c, ids))
            })
            .await?;
        Ok(group(keys, rows, |r| DealsOfBuyerKey(r.buyer_contact_id)))
    }
}

impl Loader<OwnedPropertiesKey> for TenantLoader {
    type Value = Vec<PropertyRow>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[OwnedPropertiesKey],
    ) -> Result<HashMap<OwnedPropertiesKey, Self::Value>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(properties::owned_by(c, ids))
            })
            .await?;
        Ok(group(keys, rows, |r| {
            OwnedPropertiesKey(r.owner_contact_id.unwrap_or_default())
        }))
    }
}

impl Loader<LastMessageKey> for TenantLoader {
    type Value = MessageRow;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[LastMessageKey],
    ) -> Result<HashMap<LastMessageKey, MessageRow>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(communications::last_messages(c, ids))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (LastMessageKey(r.contact_id), r))
            .collect())
    }
}

impl Loader<ScenariosKey> for TenantLoader {
    type Value = Vec<ScenarioRow>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ScenariosKey],
    ) -> Result<HashMap<ScenariosKey, Self::Value>, Self::Error> {
        let rows = self
            .read_many(keys.iter().map(|k| k.0), |c, ids| {
                Box::pin(deals::scenarios_of(c, ids))
            })
            .await?;
        Ok(group(keys, rows, |r| ScenariosKey(r.deal_id)))
    }
}

/// One batched statement of a loader: the rows of these ids.
type Batch<R> = for<'c> fn(
    &'c mut PgConnection,
    &'c [Uuid],
) -> BoxFuture<'c, Result<Vec<R>, deedlog_read_model::Error>>;

impl TenantLoader {
    /// The rows `batch` reads for `ids`, in one read transaction in the
    /// loader's tenant (counted).
    async fn read_many<R>(
        &self,
        ids: impl Iterator<Item = Uuid>,
        batch: Batch<R>,
    ) -> Result<Vec<R>, async_graphql::Error> {
        let ids: Vec<Uuid> = ids.collect();
        self.transactions.inc();
        let mut scope = TenantScope::begin(&self.pool, self.tenant)
            .await
            .map_err(from_read)?;
        let rows = batch(scope.conn(), &ids).await.map_err(from_read)?;
        scope.finish().await.map_err(from_read)?;
        Ok(rows)
    }
}

/// Rows grouped by key, every asked key present (empty when it has none).
fn group<K, R>(keys: &[K], rows: Vec<R>, key: impl Fn(&R) -> K) -> HashMap<K, Vec<R>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut out: HashMap<K, Vec<R>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

/// A property id, as the key of its price history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriceHistoryKey(pub Uuid);

/// A property id, as the key of its valuations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValuationsKey(pub Uuid);

/// A user id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub Uuid);

/// A deal id, as the key of its scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScenariosKey(pub Uuid);

/// A contact id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContactKey(pub Uuid);

/// A deal id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DealKey(pub Uuid);

/// A contact id, as the key of the deals they are the buyer of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DealsOfBuyerKey(pub Uuid);

/// A contact id, as the key of the properties they own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnedPropertiesKey(pub Uuid);

/// A contact id, as the key of their latest message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastMessageKey(pub Uuid);

/// A property id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertyKey(pub Uuid);
