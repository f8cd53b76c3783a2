//! DataLoaders: the users and properties a page refers to are read in one
//! statement per kind, whatever the page's size.

use crate::error::from_read;
use async_graphql::dataloader::Loader;
use deedlog_read_model::properties::PropertyRow;
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::{properties, tenancy, TenantScope};
use sqlx::PgPool;
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
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        self.transactions.inc();
        let mut scope = TenantScope::begin(&self.pool, self.tenant)
            .await
            .map_err(from_read)?;
        let rows = tenancy::users_by_ids(scope.conn(), &ids)
            .await
            .map_err(from_read)?;
        scope.finish().await.map_err(from_read)?;
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
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        self.transactions.inc();
        let mut scope = TenantScope::begin(&self.pool, self.tenant)
            .await
            .map_err(from_read)?;
        let rows = properties::get_many(scope.conn(), &ids)
            .await
            .map_err(from_read)?;
        scope.finish().await.map_err(from_read)?;
        Ok(rows
            .into_iter()
            .map(|r| (PropertyKey(r.property_id), r))
            .collect())
    }
}

/// A user id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub Uuid);

/// A property id, as a loader key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertyKey(pub Uuid);
