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

/// The conversion funnel of the period `[from, to)` (`from` included, `to`
/// excluded), from `rm_deals.stage_history`: per stage, the entries in the
/// period and the distinct deals they were of (`deals_reached`), and the
/// stays that ended in the period (`exits`) with the time they lasted,
/// wherever they began (each stay rounded down to the second, a stay whose
/// end carries an earlier clock than its start counts 0). Only stages with
/// an entry or an exit in the period, in pipeline order
/// (`docs/read-models.md`).
pub async fn funnel_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<FunnelRow>, Error> {
    // The start of the stay a change ends is the deal's previous change
    // (the primary key, deal and position, finds it); the changes of the
    // period come from the index on (tenant, time).
    sqlx::query_as(
        "WITH changes AS ( \
           SELECT h.deal_id, h.from_stage, h.to_stage, h.changed_at, \
                  (SELECT p.changed_at FROM rm_deals.stage_history p \
                   WHERE p.deal_id = h.deal_id AND p.position < h.position \
                   ORDER BY p.position DESC LIMIT 1) AS stay_started_at \
           FROM rm_deals.stage_history h \
           WHERE h.changed_at >= $1 AND h.changed_at < $2 \
         ), entered AS ( \
           SELECT to_stage AS stage, count(DISTINCT deal_id) AS deals_reached, \
                  count(*) AS entries \
           FROM changes GROUP BY to_stage \
         ), exited AS ( \
           SELECT from_stage AS stage, count(*) AS exits, \
                  COALESCE(sum(greatest(floor(extract(epoch FROM changed_at - stay_started_at)), 0)), 0)::bigint \
                    AS total_seconds \
           FROM changes WHERE from_stage IS NOT NULL GROUP BY from_stage \
         ) \
         SELECT current_setting('deedlog.tenant_id')::uuid AS tenant_id, stage, \
                COALESCE(e.deals_reached, 0) AS deals_reached, COALESCE(e.entries, 0) AS entries, \
                COALESCE(x.exits, 0) AS exits, COALESCE(x.total_seconds, 0) AS total_seconds, \
                x.total_seconds / x.exits AS avg_seconds \
         FROM entered e FULL JOIN exited x USING (stage) \
         ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract', 'closed_won', 'closed_lost'], stage)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the funnel of a period"))
}

/// The agent leaderboard: per currency, the largest won volume first, at
/// most `first` agents per currency (all when None).
pub async fn leaderboard(
    conn: &mut PgConnection,
    first: Option<i64>,
) -> Result<Vec<LeaderRow>, Error> {
    Query::rows(
        "WHERE (agent_id, currency) IN ( \
           SELECT agent_id, currency FROM ( \
             SELECT agent_id, currency, row_number() OVER (PARTITION BY currency \
                      ORDER BY won_volume_minor DESC, deals_won DESC, agent_id) AS rank \
             FROM rm_analytics.agent_leaderboard) ranked \
           WHERE rank <= $1) \
         ORDER BY currency, won_volume_minor DESC, deals_won DESC, agent_id",
    )
    .bind(first.unwrap_or(i64::MAX))
    .all(conn, "read the agent leaderboard")
    .await
}

/// The agent leaderboard of the period `[from, to)`, from `rm_deals.deals`:
/// per agent responsible now and currency (`XXX` without one), the deals
/// that are won (lost) now and were won (lost) in the period, the won
/// deals' final prices and commissions, and the agent's deals open now.
/// Only agents with a deal won or lost in the period; per currency the
/// largest won volume first, at most `first` agents (all when None).
pub async fn leaderboard_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    first: Option<i64>,
) -> Result<Vec<LeaderRow>, Error> {
    sqlx::query_as(
        "WITH standings AS ( \
           SELECT agent_id, COALESCE(currency, 'XXX') AS currency, \
                  count(*) FILTER (WHERE won) AS deals_won, \
                  COALESCE(sum(final_price_minor) FILTER (WHERE won), 0)::bigint AS won_volume_minor, \
                  COALESCE(sum(commission_minor) FILTER (WHERE won), 0)::bigint AS commission_minor, \
                  count(*) FILTER (WHERE lost) AS deals_lost, \
                  count(*) FILTER (WHERE is_open) AS open_deals \
           FROM (SELECT agent_id, currency, final_price_minor, commission_minor, is_open, \
                        stage = 'closed_won' AND won_at >= $1 AND won_at < $2 AS won, \
                        stage = 'closed_lost' AND lost_at >= $1 AND lost_at < $2 AS lost \
                 FROM rm_deals.deals) d \
           GROUP BY agent_id, COALESCE(currency, 'XXX') \
         ), ranked AS ( \
           SELECT *, row_number() OVER (PARTITION BY currency \
                       ORDER BY won_volume_minor DESC, deals_won DESC, agent_id) AS rank \
           FROM standings WHERE deals_won > 0 OR deals_lost > 0 \
         ) \
         SELECT current_setting('deedlog.tenant_id')::uuid AS tenant_id, agent_id, currency, \
                deals_won, won_volume_minor, commission_minor, deals_lost, open_deals \
         FROM ranked WHERE rank <= $3 \
         ORDER BY currency, won_volume_minor DESC, deals_won DESC, agent_id",
    )
    .bind(from)
    .bind(to)
    .bind(first.unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the agent leaderboard of a period"))
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

/// The most points one pipeline series has (a year of days).
pub const MAX_SERIES_POINTS: i64 = 366;

/// The calendar intervals a series steps by (UTC): days, weeks from Monday
/// (ISO 8601) or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::Enum),
    graphql(name = "SeriesInterval")
)]
pub enum Interval {
    Day,
    Week,
    Month,
}

impl Interval {
    /// The unit PostgreSQL's `date_trunc` and intervals name it by.
    fn unit(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// How many intervals the days `from` to `to` (both included) touch:
    /// the points of their series.
    pub fn points(self, from: NaiveDate, to: NaiveDate) -> i64 {
        use chrono::Datelike;
        let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        let monday = |d: NaiveDate| {
            d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
        };
        match self {
            Interval::Day => (to - from).num_days() + 1,
            Interval::Week => (monday(to) - monday(from)).num_days() / 7 + 1,
            Interval::Month => months(to) - months(from) + 1,
        }
    }
}

/// One point of a pipeline series: the open pipeline at the end of `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "PipelinePoint")
)]
pub struct PipelinePoint {
    /// The first day of the point's interval: the day, the Monday of the
    /// week, the first of the month. It may come before `from`.
    pub start: NaiveDate,
    /// The day at whose end the pipeline is taken: the interval's last day,
    /// or `to` when that comes first.
    pub at: NaiveDate,
    /// The open pipeline per stage and currency then (the snapshot of the
    /// latest day on or before `at`; empty before the first).
    pub stages: Vec<PipelineRow>,
}

/// A point and one of its stages, as the series statement returns them.
#[derive(sqlx::FromRow)]
struct SeriesRow {
    start: NaiveDate,
    at: NaiveDate,
    tenant_id: Option<Uuid>,
    day: Option<NaiveDate>,
    stage: Option<String>,
    currency: Option<String>,
    deal_count: Option<i64>,
    offer_total_minor: Option<Int64>,
    weighted_total_minor: Option<Int64>,
}

/// The open pipeline at the end of every `interval` touching the days
/// `from` to `to` (both included, `from` <= `to`), in one statement: one
/// point per interval, oldest first, each as [`pipeline_on`] its `at` day
/// would give. At most [`MAX_SERIES_POINTS`] points; more are refused,
/// naming `interval`.
pub async fn pipeline_series(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
    interval: Interval,
) -> Result<Vec<PipelinePoint>, Error> {
    let points = interval.points(from, to);
    if points > MAX_SERIES_POINTS {
        return Err(Error::bad_input(
            "interval",
            format!(
                "{from} to {to} by {} makes {points} points, more than the {MAX_SERIES_POINTS} \
                 a series may have; ask for a shorter range or a longer interval",
                interval.unit()
            ),
        ));
    }
    let rows: Vec<SeriesRow> = sqlx::query_as(
        "SELECT p.start, p.at, s.tenant_id, s.day, s.stage, s.currency, s.deal_count, \
                s.offer_total_minor, s.weighted_total_minor \
         FROM (SELECT g::date AS start, \
                      least((g + ('1 ' || $3)::interval - interval '1 day')::date, $2::date) AS at \
               FROM generate_series(date_trunc($3, $1::date::timestamp), $2::date::timestamp, \
                                    ('1 ' || $3)::interval) AS g) p \
         LEFT JOIN LATERAL ( \
           SELECT r.tenant_id, r.day, r.stage, r.currency, r.deal_count, \
                  r.offer_total_minor, r.weighted_total_minor \
           FROM rm_analytics.pipeline_by_day r \
           WHERE r.deal_count > 0 \
             AND r.day = (SELECT max(l.day) FROM rm_analytics.pipeline_by_day l \
                          WHERE l.day <= p.at) \
         ) s ON true \
         ORDER BY p.start, array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', \
                  'negotiation', 'under_contract'], s.stage), s.currency",
    )
    .bind(from)
    .bind(to)
    .bind(interval.unit())
    .fetch_all(conn)
    .await
    .map_err(Error::db("read a pipeline series"))?;
    let mut series: Vec<PipelinePoint> = Vec::new();
    for row in rows {
        if series.last().map(|p| p.start) != Some(row.start) {
            series.push(PipelinePoint {
                start: row.start,
                at: row.at,
                stages: Vec::new(),
            });
        }
        let stage = match (row.tenant_id, row.day, row.stage, row.currency) {
            (Some(tenant_id), Some(day), Some(stage), Some(currency)) => PipelineRow {
                tenant_id,
                day,
                stage,
                currency,
                deal_count: row.deal_count.unwrap_or_default(),
                offer_total_minor: row.offer_total_minor.unwrap_or_default(),
                weighted_total_minor: row.weighted_total_minor.unwrap_or_default(),
            },
            // A point before the first snapshot: no stage.
            _ => continue,
        };
        if let Some(point) = series.last_mut() {
            point.stages.push(stage);
        }
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::Interval;
    use chrono::NaiveDate;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn points_count_the_calendar_intervals_a_range_touches() {
        let (tue, next_mon) = (day("2026-12-01"), day("2026-12-07"));
        assert_eq!(Interval::Day.points(tue, tue), 1);
        assert_eq!(Interval::Day.points(tue, next_mon), 7);
        assert_eq!(Interval::Week.points(tue, day("2026-12-06")), 1);
        assert_eq!(Interval::Week.points(tue, next_mon), 2);
        assert_eq!(Interval::Month.points(day("2026-11-30"), tue), 2);
        assert_eq!(
            Interval::Month.points(day("2026-01-31"), day("2026-12-01")),
            12
        );
        assert_eq!(
            Interval::Day.points(day("2024-01-01"), day("2024-12-31")),
            366
        );
    }
}
