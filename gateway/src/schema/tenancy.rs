//! The tenant, its modules and its users.

use super::reads::scope;
use crate::error::{from_read, not_found};
use crate::viewer::{allowed, viewer};
use async_graphql::{Context, Object, Result};
use deedlog_kernel::Role;
use deedlog_read_model::tenancy::{self as rm, ModuleRow, TenantRow, UserRow};

#[derive(Debug, Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<TenantRow> {
        let viewer = viewer(ctx)?;
        let mut scope = scope(ctx, viewer).await?;
        rm::tenant(scope.conn())
            .await
            .map_err(from_read)?
            .ok_or_else(|| not_found("tenant"))
    }

    /// The tenant's feature modules.
    async fn modules(&self, ctx: &Context<'_>) -> Result<Vec<ModuleRow>> {
        let viewer = viewer(ctx)?;
        let mut scope = scope(ctx, viewer).await?;
        rm::modules(scope.conn()).await.map_err(from_read)
    }

    /// The tenant's users (admins, managers and auditors).
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<UserRow>> {
        let viewer = allowed(ctx, Role::may_read_users, "list users")?;
        let mut scope = scope(ctx, viewer).await?;
        rm::users(scope.conn()).await.map_err(from_read)
    }

    /// The caller as a user of the tenant.
    async fn me(&self, ctx: &Context<'_>) -> Result<UserRow> {
        let viewer = viewer(ctx)?;
        let mut scope = scope(ctx, viewer).await?;
        rm::users_by_ids(scope.conn(), &[viewer.caller.user.as_uuid()])
            .await
            .map_err(from_read)?
            .pop()
            .ok_or_else(|| not_found("user"))
    }
}
