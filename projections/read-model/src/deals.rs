//! `rm_deals`: the pipeline board, the deal detail and its stage history.

use crate::error::Error;
use crate::int64::Int64;
use crate::row::{row, Query};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// A row of `rm_deals.deals`.
    #[derive(Eq)]
    pub struct DealRow as "DealRecord" in "rm_deals"."deals" {
        pub deal_id: Uuid,
        pub property_id: Uuid,
        pub buyer_contact_id: Uuid,
        pub agent_id: Uuid,
        pub stage: String,
        pub is_open: bool,
        pub last_open_stage: String,
        pub stage_entered_at: DateTime<Utc>,
        pub currency: Option<String>,
        pub offer_minor: Option<Int64>,
        pub commission_minor: Option<Int64>,
        pub probability_pct: i32,
        pub probability_explicit: bool,
        pub expected_value_minor: Option<Int64>,
        pub expected_close: Option<NaiveDate>,
        pub final_price_minor: Option<Int64>,
        pub lost_reason: Option<String>,
        pub won_at: Option<DateTime<Utc>>,
        pub lost_at: Option<DateTime<Utc>>,
        pub closed_at: Option<DateTime<Utc>>,
        pub reopened_count: i32,
        pub scenario_count: i32,
        pub version: Int64,
        pub last_position: Int64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_deals.stage_history`.
    #[derive(Eq)]
    pub struct StageChangeRow as "StageChange" in "rm_deals"."stage_history" {
        pub deal_id: Uuid,
        pub position: Int64,
        pub version: Int64,
        pub kind: String,
        pub from_stage: Option<String>,
        pub to_stage: String,
        pub changed_at: DateTime<Utc>,
        pub changed_by: String,
    }
}

row! {
    /// A row of `rm_deals.scenarios`: a financing scenario of a deal with the
    /// domain's own figures.
    pub struct ScenarioRow in "rm_deals"."scenarios" {
        pub deal_id: Uuid,
        pub scenario_id: Uuid,
        pub name: String,
        pub currency: String,
        pub price_minor: i64,
        /// As in the event: `[{"label": …, "amount": {"amount_minor": 1, "currency": "EUR"}}]`.
        pub costs: serde_json::Value,
        pub loan_minor: Option<i64>,
        pub annual_rate_bp: Option<i32>,
        pub term_months: Option<i32>,
        pub total_costs_minor: Option<i64>,
        pub monthly_payment_minor: Option<i64>,
        pub total_interest_minor: Option<i64>,
        pub equity_needed_minor: Option<i64>,
        pub probability_pct: i32,
        pub expected_value_minor: Option<i64>,
        pub added_position: i64,
        pub added_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub last_position: i64,
    }
}

/// One column of the pipeline board: the open deals of a stage in one
/// currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "StageColumn")
)]
pub struct StageColumn {
    pub stage: String,
    /// Open deals in the stage.
    pub count: i64,
    /// Sum of their offers in minor units (a deal without one adds 0).
    pub total_minor: Int64,
    /// Sum of their expected values in minor units.
    pub weighted_minor: Int64,
    /// Their currency; none for deals without any amount yet.
    pub currency: Option<String>,
}

/// The pipeline board: open deals per stage and currency, stages in
/// pipeline order.
pub async fn board(conn: &mut PgConnection) -> Result<Vec<StageColumn>, Error> {
    sqlx::query_as(
        "SELECT stage, count(*) AS count, \
                COALESCE(sum(offer_minor), 0)::bigint AS total_minor, \
                COALESCE(sum(expected_value_minor), 0)::bigint AS weighted_minor, currency \
         FROM rm_deals.deals WHERE is_open GROUP BY stage, currency \
         ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation', \
                  'under_contract'], stage), currency NULLS LAST",
    )
    .fetch_all(conn)
    .await
    .map_err(Error::db("read the pipeline board"))
}

/// One deal, if the tenant has it.
pub async fn get(conn: &mut PgConnection, deal_id: Uuid) -> Result<Option<DealRow>, Error> {
    Query::rows("WHERE deal_id = $1")
        .bind(deal_id)
        .optional(conn, "read a deal")
        .await
}

/// Every stage change of a deal, from its opening on.
pub async fn stage_history(
    conn: &mut PgConnection,
    deal_id: Uuid,
) -> Result<Vec<StageChangeRow>, Error> {
    Query::rows("WHERE deal_id = $1 ORDER BY position")
        .bind(deal_id)
        .all(conn, "read a deal's stage history")
        .await
}

/// The scenarios of these deals in one statement (a page's worth), each
/// deal's in the order they were added.
pub async fn scenarios_of(
    conn: &mut PgConnection,
    deal_ids: &[Uuid],
) -> Result<Vec<ScenarioRow>, Error> {
    Query::rows("WHERE deal_id = ANY($1) ORDER BY deal_id, added_position")
        .bind(deal_ids)
        .all(conn, "read deals' scenarios")
        .await
}
