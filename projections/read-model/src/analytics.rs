//! `rm_analytics`: the pipeline over time, the funnel, the agent
//! leaderboard and weekly figures. Days and weeks are UTC.

use crate::error::Error;
use crate::int64::Int64;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// The open pipeline of one stage and currency at the end of `day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "PipelineStage")
)]
pub struct PipelineRow {
    /// The snapshot's day: the latest day with a change, on or before the
    /// day asked for.
    pub day: NaiveDate,
    pub stage: String,
    pub currency: String,
    pub deal_count: i64,
    pub offer_total_minor: Int64,
    pub weighted_total_minor: Int64,
}

/// A row of `rm_analytics.funnel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "FunnelStage")
)]
pub struct FunnelRow {
    pub stage: String,
    pub deals_reached: i64,
    pub entries: i64,
    pub exits: i64,
    pub total_seconds: i64,
    pub avg_seconds: Option<i64>,
}

/// A row of `rm_analytics.agent_leaderboard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "AgentStanding")
)]
pub struct LeaderRow {
    pub agent_id: Uuid,
    pub currency: String,
    pub deals_won: i64,
    pub won_volume_minor: Int64,
    pub commission_minor: Int64,
    pub deals_lost: i64,
    pub open_deals: i64,
}

/// A row of `rm_analytics.price_changes_by_week`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "PriceChangeWeek")
)]
pub struct PriceChangeWeekRow {
    pub week_start: NaiveDate,
    pub currency: String,
    pub changes: i64,
    pub decreases: i64,
    pub increases: i64,
    pub abs_change_minor: Int64,
}

/// A row of `rm_analytics.messages_by_week`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "MessageWeek")
)]
pub struct MessageWeekRow {
    pub week_start: NaiveDate,
    pub channel: String,
    pub sent: i64,
    pub refused: i64,
    pub delivered: i64,
    pub opened: i64,
    pub bounced: i64,
    pub hard_bounced: i64,
    pub replied: i64,
}

/// The open pipeline at the end of `day`: snapshots are stored only for
/// days on which it changed, so this is the snapshot of the latest day on
/// or before `day`, without its emptied stages (`docs/read-models.md`).
pub async fn pipeline_on(
    conn: &mut PgConnection,
    day: NaiveDate,
) -> Result<Vec<PipelineRow>, Error> {
    sqlx::query_as(
        "SELECT day, stage, currency, deal_count, offer_total_minor, weighted_total_minor \
         FROM rm_analytics.pipeline_by_day \
         WHERE deal_count > 0 \
           AND day = (SELECT max(day) FROM rm_analytics.pipeline_by_day WHERE day <= $1) \
         ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract'], stage), currency",
    )
    .bind(day)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the pipeline of a day"))
}

/// The conversion funnel, stages in pipeline order.
pub async fn funnel(conn: &mut PgConnection) -> Result<Vec<FunnelRow>, Error> {
    sqlx::query_as(
        "SELECT stage, deals_reached, entries, exits, total_seconds, avg_seconds \
         FROM rm_analytics.funnel \
         ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract', 'closed_won', 'closed_lost'], stage)",
    )
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the funnel"))
}

/// The agent leaderboard: per currency, the largest won volume first.
pub async fn leaderboard(conn: &mut PgConnection) -> Result<Vec<LeaderRow>, Error> {
    sqlx::query_as(
        "SELECT agent_id, currency, deals_won, won_volume_minor, commission_minor, deals_lost, \
         open_deals FROM rm_analytics.agent_leaderboard \
         ORDER BY currency, won_volume_minor DESC, deals_won DESC, agent_id",
    )
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the agent leaderboard"))
}

/// Asking-price changes of the weeks starting from `from` to `to`
/// (Mondays, both included), oldest first.
pub async fn price_changes(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PriceChangeWeekRow>, Error> {
    sqlx::query_as(
        "SELECT week_start, currency, changes, decreases, increases, abs_change_minor \
         FROM rm_analytics.price_changes_by_week WHERE week_start BETWEEN $1 AND $2 \
         ORDER BY week_start, currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read price changes by week"))
}

/// Messages per channel of the weeks starting from `from` to `to` (Mondays,
/// both included), oldest first, channels in the order email, sms, call,
/// letter.
pub async fn messages_by_week(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MessageWeekRow>, Error> {
    sqlx::query_as(
        "SELECT week_start, channel, sent, refused, delivered, opened, bounced, hard_bounced, \
         replied FROM rm_analytics.messages_by_week WHERE week_start BETWEEN $1 AND $2 \
         ORDER BY week_start, array_position(ARRAY['email', 'sms', 'call', 'letter'], channel)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read messages by week"))
}
