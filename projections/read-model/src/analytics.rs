//! `rm_analytics`: the pipeline over time, the funnel, the agent
//! leaderboard and weekly figures. Days and weeks are UTC.

use crate::error::Error;
use crate::int64::Int64;
use crate::row::{row, Query, Row};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// The open pipeline of one stage and currency at the end of `day`.
    #[derive(Eq)]
    pub struct PipelineRow as "PipelineStage" in "rm_analytics"."pipeline_by_day" {
        /// The snapshot's day: the latest day with a change, on or before the
        /// day asked for.
        pub day: NaiveDate,
        pub stage: String,
        pub currency: String,
        pub deal_count: i64,
        pub offer_total_minor: Int64,
        pub weighted_total_minor: Int64,
    }
}

row! {
    /// A row of `rm_analytics.funnel`.
    #[derive(Eq)]
    pub struct FunnelRow as "FunnelStage" in "rm_analytics"."funnel" {
        pub stage: String,
        pub deals_reached: i64,
        pub entries: i64,
        pub exits: i64,
        pub total_seconds: i64,
        pub avg_seconds: Option<i64>,
    }
}

row! {
    /// A row of `rm_analytics.agent_leaderboard`.
    #[derive(Eq)]
    pub struct LeaderRow as "AgentStanding" in "rm_analytics"."agent_leaderboard" {
        pub agent_id: Uuid,
        pub currency: String,
        pub deals_won: i64,
        pub won_volume_minor: Int64,
        pub commission_minor: Int64,
        pub deals_lost: i64,
        pub open_deals: i64,
    }
}

row! {
    /// A row of `rm_analytics.price_changes_by_week`.
    #[derive(Eq)]
    pub struct PriceChangeWeekRow as "PriceChangeWeek" in "rm_analytics"."price_changes_by_week" {
        pub week_start: NaiveDate,
        pub currency: String,
        pub changes: i64,
        pub decreases: i64,
        pub increases: i64,
        pub abs_change_minor: Int64,
    }
}

row! {
    /// A row of `rm_analytics.messages_by_week`.
    #[derive(Eq)]
    pub struct MessageWeekRow as "MessageWeek" in "rm_analytics"."messages_by_week" {
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
}

row! {
    /// A row of `rm_analytics.deal_state`: what the analytics projection
    /// remembers of each deal to move its counts (not read by the API).
    #[derive(Eq)]
    pub struct DealStateRow in "rm_analytics"."deal_state" {
        pub deal_id: Uuid,
        pub property_id: Uuid,
        pub buyer_id: Uuid,
        pub agent_id: Uuid,
        pub stage: String,
        pub last_open_stage: String,
        pub offer_minor: Option<i64>,
        pub commission_minor: Option<i64>,
        pub final_price_minor: Option<i64>,
        pub currency: Option<String>,
        pub probability_pct: Option<i16>,
        pub entered_stage_at: DateTime<Utc>,
        pub reached_stages: Vec<String>,
        pub version: i64,
        pub last_position: i64,
    }
}

impl PipelineRow {
    /// Whether the row still counts a deal or an amount (the projector
    /// drops the others).
    pub fn counts_something(&self) -> bool {
        self.deal_count != 0 || self.offer_total_minor != 0 || self.weighted_total_minor != 0
    }
}

impl FunnelRow {
    /// A stage of a tenant's funnel that counts nothing yet.
    pub fn new(tenant_id: Uuid, stage: &str) -> Self {
        FunnelRow {
            tenant_id,
            stage: stage.to_owned(),
            deals_reached: 0,
            entries: 0,
            exits: 0,
            total_seconds: 0,
            avg_seconds: None,
        }
    }
}

impl MessageWeekRow {
    /// A week of a channel that counts nothing yet.
    pub fn new(tenant_id: Uuid, week_start: NaiveDate, channel: String) -> Self {
        MessageWeekRow {
            tenant_id,
            week_start,
            channel,
            sent: 0,
            refused: 0,
            delivered: 0,
            opened: 0,
            bounced: 0,
            hard_bounced: 0,
            replied: 0,
        }
    }
}

/// The open pipeline at the end of `day`: snapshots are stored only for
/// days on which it changed, so this is the snapshot of the latest day on
/// or before `day`, without its emptied stages (`docs/read-models.md`).
pub async fn pipeline_on(
    conn: &mut PgConnection,
    day: NaiveDate,
) -> Result<Vec<PipelineRow>, Error> {
    Query::rows(
        "WHERE deal_count > 0 \
           AND day = (SELECT max(day) FROM rm_analytics.pipeline_by_day WHERE day <= $1) \
         ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract'], stage), currency",
    )
    .bind(day)
    .all(conn, "read the pipeline of a day")
    .await
}

/// The conversion funnel, stages in pipeline order.
pub async fn funnel(conn: &mut PgConnection) -> Result<Vec<FunnelRow>, Error> {
    Query::rows(
        "ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract', 'closed_won', 'closed_lost'], stage)",
    )
    .all(conn, "read the funnel")
    .await
}

/// The agent leaderboard: per currency, the largest won volume first.
pub async fn leaderboard(conn: &mut PgConnection) -> Result<Vec<LeaderRow>, Error> {
    Query::rows("ORDER BY currency, won_volume_minor DESC, deals_won DESC, agent_id")
        .all(conn, "read the agent leaderboard")
        .await
}

/// Asking-price changes of the weeks starting from `from` to `to`
/// (Mondays, both included), oldest first.
pub async fn price_changes(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PriceChangeWeekRow>, Error> {
    of_weeks(conn, from, to, "currency", "read price changes by week").await
}

/// Messages per channel of the weeks starting from `from` to `to` (Mondays,
/// both included), oldest first, channels in the order email, sms, call,
/// letter.
pub async fn messages_by_week(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MessageWeekRow>, Error> {
    let channels = "array_position(ARRAY['email', 'sms', 'call', 'letter'], channel)";
    of_weeks(conn, from, to, channels, "read messages by week").await
}

/// The rows of a weekly table for the weeks starting from `from` to `to`,
/// oldest first, each week's rows ordered by `then` (SQL written in this module, never input).
async fn of_weeks<R>(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
    then: &str,
    context: &'static str,
) -> Result<Vec<R>, Error>
where
    R: Row + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Query::rows(&format!(
        "WHERE week_start BETWEEN $1 AND $2 ORDER BY week_start, {then}"
    ))
    .bind(from)
    .bind(to)
    .all(conn, context)
    .await
}
