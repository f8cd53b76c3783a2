//! A deal's what-if scenarios as the deals read model keeps them: the
//! inputs and the figures the deals context's own arithmetic gives them at
//! the deal's current probability (`rm_deals.scenarios`).

use crate::error::internal;
use async_graphql::{Result, SimpleObject};
use chrono::{DateTime, Utc};
use deedlog_read_model::deals::ScenarioRow;
use deedlog_read_model::Int64;
use serde::Deserialize;
use uuid::Uuid;

/// A what-if scenario of a deal: a price, the costs around it and an
/// optional loan, with what they come to.
#[derive(Debug, SimpleObject)]
pub struct Scenario {
    pub scenario_id: Uuid,
    /// Unique within the deal, ignoring case.
    pub name: String,
    /// The currency of the price and of every amount of the scenario (the deal's).
    pub currency: String,
    /// The purchase price assumed, in minor units.
    pub price_minor: Int64,
    /// The costs, in the order given.
    pub costs: Vec<ScenarioCost>,
    /// The loan assumed; null without financing.
    pub financing: Option<ScenarioFinancing>,
    /// What the scenario comes to; null only for inputs beyond the bounds
    /// the rules accept, which the rules never record.
    pub figures: Option<ScenarioFigures>,
    /// When the scenario was added.
    pub added_at: DateTime<Utc>,
    /// When its inputs last changed.
    pub updated_at: DateTime<Utc>,
}

/// One cost of a scenario (notary, transfer tax, renovation…).
#[derive(Debug, SimpleObject)]
pub struct ScenarioCost {
    pub label: String,
    /// In minor units of the scenario's currency.
    pub amount_minor: Int64,
}

/// A loan repaid in equal monthly instalments.
#[derive(Debug, SimpleObject)]
pub struct ScenarioFinancing {
    /// In minor units of the scenario's currency.
    pub loan_minor: Int64,
    /// The nominal annual rate in basis points (350 = 3.5%).
    pub annual_rate_bp: i32,
    pub term_months: i32,
}

/// What a scenario comes to, by the deals context's own arithmetic (integer
/// minor units, each figure rounded half away from zero once).
#[derive(Debug, SimpleObject)]
pub struct ScenarioFigures {
    /// The sum of the costs.
    pub total_costs_minor: Int64,
    /// The annuity instalment, rounded to the minor unit; null without financing.
    pub monthly_payment_minor: Option<Int64>,
    /// Everything repaid over the term minus the loan (0 without financing).
    pub total_interest_minor: Int64,
    /// What the buyer brings: price + costs − loan.
    pub equity_needed_minor: Int64,
    /// The deal's probability of close in percent, the expected value is weighted with.
    pub probability_pct: i32,
    /// (price − costs − interest) × probability.
    pub expected_value_minor: Int64,
}

/// A cost as `rm_deals.scenarios.costs` records it.
#[derive(Deserialize)]
struct StoredCost {
    label: String,
    amount: StoredAmount,
}

#[derive(Deserialize)]
struct StoredAmount {
    amount_minor: i64,
}

impl Scenario {
    /// The scenario of a read-model row; a `costs` value the projector
    /// would never write is an internal error.
    pub fn from_row(row: ScenarioRow) -> Result<Self> {
        let costs: Vec<StoredCost> = serde_json::from_value(row.costs)
            .map_err(|e| internal("read a scenario's costs", &e))?;
        let financing = match (row.loan_minor, row.annual_rate_bp, row.term_months) {
            (Some(loan), Some(annual_rate_bp), Some(term_months)) => Some(ScenarioFinancing {
                loan_minor: Int64(loan),
                annual_rate_bp,
                term_months,
            }),
            _ => None,
        };
        let figures = match (
            row.total_costs_minor,
            row.total_interest_minor,
            row.equity_needed_minor,
            row.expected_value_minor,
        ) {
            (Some(costs), Some(interest), Some(equity), Some(expected)) => Some(ScenarioFigures {
                total_costs_minor: Int64(costs),
                monthly_payment_minor: row.monthly_payment_minor.map(Int64),
                total_interest_minor: Int64(interest),
                equity_needed_minor: Int64(equity),
                probability_pct: row.probability_pct,
                expected_value_minor: Int64(expected),
            }),
            _ => None,
        };
        Ok(Scenario {
            scenario_id: row.scenario_id,
            name: row.name,
            currency: row.currency,
            price_minor: Int64(row.price_minor),
            costs: costs
                .into_iter()
                .map(|c| ScenarioCost {
                    label: c.label,
                    amount_minor: Int64(c.amount.amount_minor),
                })
                .collect(),
            financing,
            figures,
            added_at: row.added_at,
            updated_at: row.updated_at,
        })
    }
}
