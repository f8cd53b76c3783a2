//! The analytics of DOMAIN.md: pipeline value by stage over time, the
//! conversion funnel, the agent leaderboard, price changes and messages per
//! week. Admins, managers and auditors.

use super::reads::scope;
use crate::error::{bad_input, from_read};
use crate::viewer::allowed;
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use deedlog_kernel::Role;
use deedlog_read_model::analytics::{
    self as rm, FunnelRow, LeaderRow, MessageWeekRow, PipelineRow, PriceChangeWeekRow,
};
use deedlog_read_model::TenantScope;

const READ: &str = "read analytics";

#[derive(Debug, Default)]
pub struct AnalyticsQuery;

/// A tenant scope for a viewer whose role may read analytics.
async fn analytics_scope(ctx: &Context<'_>) -> Result<TenantScope> {
    scope(ctx, allowed(ctx, Role::may_read_analytics, READ)?).await
}

/// Like [`analytics_scope`], for weeks between `from` and `to`; a range that
/// runs backwards is refused (after the role is checked).
async fn ranged_scope(ctx: &Context<'_>, from: NaiveDate, to: NaiveDate) -> Result<TenantScope> {
    let viewer = allowed(ctx, Role::may_read_analytics, READ)?;
    if from > to {
        return Err(bad_input(format!("`from` ({from}) is after `to` ({to})")));
    }
    scope(ctx, viewer).await
}

#[Object]
impl AnalyticsQuery {
    /// The open pipeline per stage at the end of `day`.
    async fn pipeline_on(&self, ctx: &Context<'_>, day: NaiveDate) -> Result<Vec<PipelineRow>> {
        let mut scope = analytics_scope(ctx).await?;
        rm::pipeline_on(scope.conn(), day).await.map_err(from_read)
    }

    /// How many deals reached each stage and how long they stayed.
    async fn funnel(&self, ctx: &Context<'_>) -> Result<Vec<FunnelRow>> {
        let mut scope = analytics_scope(ctx).await?;
        rm::funnel(scope.conn()).await.map_err(from_read)
    }

    /// Won deals, volume and commission per agent.
    async fn leaderboard(&self, ctx: &Context<'_>) -> Result<Vec<LeaderRow>> {
        let mut scope = analytics_scope(ctx).await?;
        rm::leaderboard(scope.conn()).await.map_err(from_read)
    }

    /// Asking-price changes per week between `from` and `to`.
    async fn price_changes(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PriceChangeWeekRow>> {
        let mut scope = ranged_scope(ctx, from, to).await?;
        rm::price_changes(scope.conn(), from, to)
            .await
            .map_err(from_read)
    }

    /// Messages sent, refused, delivered and replied per channel and week.
    async fn messages_by_week(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MessageWeekRow>> {
        let mut scope = ranged_scope(ctx, from, to).await?;
        rm::messages_by_week(scope.conn(), from, to)
            .await
            .map_err(from_read)
    }
}
