//! The analytics of DOMAIN.md: pipeline value by stage over time, the
//! conversion funnel, the agent leaderboard, price changes and messages per
//! week. Admins, managers and auditors.

use super::reads::scope;
use crate::error::{bad_input, from_read};
use crate::viewer::allowed;
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use deedlog_kernel::Role;
use deedlog_read_model::analytics::{
    self as rm, FunnelRow, Interval, LeaderRow, MessageWeekRow, PipelinePoint, PipelineRow,
    PriceChangeWeekRow,
};
use deedlog_read_model::{TenantScope, MAX_FIRST};

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

/// A period `[from, to)` of instants: both or neither (all time), `from`
/// not after `to`.
type Period = Option<(DateTime<Utc>, DateTime<Utc>)>;

/// The period `from` and `to` name, checked (after the role is).
fn period(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Period> {
    match (from, to) {
        (None, None) => Ok(None),
        (Some(from), Some(to)) if from > to => Err(bad_input(format!(
            "`from` ({}) is after `to` ({})",
            from.to_rfc3339(),
            to.to_rfc3339()
        ))),
        (Some(from), Some(to)) => Ok(Some((from, to))),
        (Some(_), None) => Err(bad_input(
            "`from` needs `to`: give both for a period, or neither for all time",
        )),
        (None, Some(_)) => Err(bad_input(
            "`to` needs `from`: give both for a period, or neither for all time",
        )),
    }
}

#[Object]
impl AnalyticsQuery {
    /// The open pipeline per stage at the end of `day`.
    async fn pipeline_on(&self, ctx: &Context<'_>, day: NaiveDate) -> Result<Vec<PipelineRow>> {
        let mut scope = analytics_scope(ctx).await?;
        rm::pipeline_on(scope.conn(), day).await.map_err(from_read)
    }

    /// The open pipeline per stage at the end of every `interval` (UTC
    /// days, weeks from Monday, months) touching the days `from` to `to`,
    /// both included: one point per interval, oldest first, taken at the
    /// interval's last day or at `to` when that comes first. At most 366
    /// points.
    async fn pipeline_series(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        interval: Interval,
    ) -> Result<Vec<PipelinePoint>> {
        let mut scope = ranged_scope(ctx, from, to).await?;
        rm::pipeline_series(scope.conn(), from, to, interval)
            .await
            .map_err(from_read)
    }

    /// How many deals reached each stage and how long they stayed: for all
    /// time without a period; with `from` and `to`, for the instants from
    /// `from` (included) to `to` (excluded): the entries into each stage in
    /// the period and the stays that ended in it.
    async fn funnel(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<FunnelRow>> {
        let viewer = allowed(ctx, Role::may_read_analytics, READ)?;
        let period = period(from, to)?;
        let mut scope = scope(ctx, viewer).await?;
        match period {
            None => rm::funnel(scope.conn()).await,
            Some((from, to)) => rm::funnel_between(scope.conn(), from, to).await,
        }
        .map_err(from_read)
    }

    /// Won deals, volume and commission per agent and currency, the largest
    /// won volume first, at most `first` (1 to 100) agents per currency:
    /// for all time without a period; with `from` and `to`, the deals won or
    /// lost from `from` (included) to `to` (excluded) that still are.
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
    ) -> Result<Vec<LeaderRow>> {
        let viewer = allowed(ctx, Role::may_read_analytics, READ)?;
        let period = period(from, to)?;
        let first = first.map(i64::from);
        if first.is_some_and(|n| !(1..=MAX_FIRST).contains(&n)) {
            return Err(bad_input(format!("`first` must be 1 to {MAX_FIRST}")));
        }
        let mut scope = scope(ctx, viewer).await?;
        match period {
            None => rm::leaderboard(scope.conn(), first).await,
            Some((from, to)) => rm::leaderboard_between(scope.conn(), from, to, first).await,
        }
        .map_err(from_read)
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
