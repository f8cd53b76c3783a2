//! A deal being folded: its domain state rebuilt from its stored rows, and
//! the rows written back from that state.

use crate::projections::decode::int;
use chrono::{DateTime, Utc};
use deedlog_deals_domain::scenario::{Cost, Financing, Scenario};
use deedlog_deals_domain::state::{Deal, State};
use deedlog_deals_domain::Stage;
use deedlog_kernel::{Currency, Money, UserId};
use deedlog_read_model::deals::{DealRow, ScenarioRow};
use deedlog_read_model::Int64;
use std::collections::HashMap;
use uuid::Uuid;

/// A deal being folded: its row, its state as the domain sees it, and what
/// the domain does not keep about its scenarios.
pub(super) struct Working {
    pub(super) row: DealRow,
    /// Always a deal: `evolve` never closes a state it was given open.
    pub(super) state: State,
    pub(super) scenarios: HashMap<Uuid, ScenarioMeta>,
    /// The probability the stored scenario rows were computed at (None for
    /// a deal new in this batch).
    pub(super) stored_pct: Option<u8>,
    pub(super) scenarios_changed: bool,
}

/// When a scenario was added and last changed.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScenarioMeta {
    pub(super) added_position: i64,
    pub(super) added_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) last_position: i64,
}

impl Working {
    /// The deal as its stored rows say (scenarios in order of addition).
    pub(super) fn from_rows(row: DealRow, mut scenarios: Vec<ScenarioRow>) -> Result<Self, String> {
        scenarios.sort_by_key(|s| s.added_position);
        let currency = row.currency.as_deref().map(currency).transpose()?;
        let money = |minor: Option<Int64>| -> Result<Option<Money>, String> {
            minor
                .map(|m| {
                    currency
                        .map(|c| Money::new(m.0, c))
                        .ok_or_else(|| "an amount without a currency".to_owned())
                })
                .transpose()
        };
        let probability = u8::try_from(row.probability_pct)
            .map_err(|_| format!("probability {} out of range", row.probability_pct))?;
        let mut metas = HashMap::with_capacity(scenarios.len());
        let mut kept = Vec::with_capacity(scenarios.len());
        for s in scenarios {
            metas.insert(
                s.scenario_id,
                ScenarioMeta {
                    added_position: s.added_position,
                    added_at: s.added_at,
                    updated_at: s.updated_at,
                    last_position: s.last_position,
                },
            );
            kept.push(scenario_of(s)?);
        }
        let deal = Deal {
            property: row.property_id,
            buyer: row.buyer_contact_id,
            agent: UserId::from_uuid(row.agent_id),
            stage: stage(&row.stage)?,
            last_open_stage: stage(&row.last_open_stage)?,
            offer: money(row.offer_minor)?,
            commission: money(row.commission_minor)?,
            probability_override: row.probability_explicit.then_some(probability),
            expected_close: row.expected_close,
            final_price: money(row.final_price_minor)?,
            lost_reason: row.lost_reason.clone(),
            scenarios: kept,
        };
        Ok(Self {
            row,
            state: State(Some(deal)),
            scenarios: metas,
            stored_pct: Some(probability),
            scenarios_changed: false,
        })
    }

    /// Whether the scenario rows must be written again: their inputs
    /// changed, or the probability their expected values are weighted with.
    pub(super) fn scenarios_need_writing(&self) -> bool {
        let Some(deal) = &self.state.0 else {
            return false;
        };
        self.scenarios_changed
            || (!deal.scenarios.is_empty() && self.stored_pct != Some(deal.probability_pct()))
    }

    /// The deal's scenario rows, with their figures at its probability.
    pub(super) fn scenario_rows(&self) -> Result<Vec<ScenarioRow>, String> {
        let Some(deal) = &self.state.0 else {
            return Ok(Vec::new());
        };
        deal.scenarios
            .iter()
            .filter_map(|s| Some((s, self.scenarios.get(&s.id)?)))
            .map(|(s, meta)| {
                let figures = deal.scenario_figures(s.id);
                let minor = |m: Money| m.amount_minor;
                Ok(ScenarioRow {
                    tenant_id: self.row.tenant_id,
                    deal_id: self.row.deal_id,
                    scenario_id: s.id,
                    name: s.name.clone(),
                    currency: s.price.currency.code().to_owned(),
                    price_minor: s.price.amount_minor,
                    costs: serde_json::to_value(&s.costs)
                        .unwrap_or_else(|_| serde_json::Value::Array(Vec::new())),
                    loan_minor: s.financing.map(|f| f.loan.amount_minor),
                    annual_rate_bp: s
                        .financing
                        .map(|f| int("annual_rate_bp", f.annual_rate_bp))
                        .transpose()?,
                    term_months: s
                        .financing
                        .map(|f| int("term_months", f.term_months))
                        .transpose()?,
                    total_costs_minor: figures.map(|f| minor(f.total_costs)),
                    monthly_payment_minor: figures.and_then(|f| f.monthly_payment.map(minor)),
                    total_interest_minor: figures.map(|f| minor(f.total_interest)),
                    equity_needed_minor: figures.map(|f| minor(f.equity_needed)),
                    probability_pct: i32::from(deal.probability_pct()),
                    expected_value_minor: figures.map(|f| minor(f.expected_value)),
                    added_position: meta.added_position,
                    added_at: meta.added_at,
                    updated_at: meta.updated_at,
                    last_position: meta.last_position,
                })
            })
            .collect()
    }

    /// The row, with every field the domain state determines taken from it.
    pub(super) fn into_row(self) -> Result<DealRow, String> {
        let Working { mut row, state, .. } = self;
        let Some(deal) = state.0 else {
            return Ok(row);
        };
        row.property_id = deal.property;
        row.buyer_contact_id = deal.buyer;
        row.agent_id = deal.agent.as_uuid();
        row.stage = deal.stage.as_str().to_owned();
        row.is_open = deal.stage.is_open();
        row.last_open_stage = deal.last_open_stage.as_str().to_owned();
        row.currency = deal.currency().map(|c| c.code().to_owned());
        row.offer_minor = deal.offer.map(|m| Int64(m.amount_minor));
        row.commission_minor = deal.commission.map(|m| Int64(m.amount_minor));
        row.probability_pct = i32::from(deal.probability_pct());
        row.probability_explicit = deal.probability_override.is_some();
        row.expected_value_minor = deal.expected_value().map(|m| Int64(m.amount_minor));
        row.expected_close = deal.expected_close;
        row.final_price_minor = deal.final_price.map(|m| Int64(m.amount_minor));
        row.lost_reason = deal.lost_reason;
        row.scenario_count = int("scenario_count", deal.scenarios.len())?;
        Ok(row)
    }
}

fn stage(text: &str) -> Result<Stage, String> {
    Stage::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| format!("unknown stage {text:?}"))
}

fn currency(code: &str) -> Result<Currency, String> {
    Currency::new(code).map_err(|e| e.to_string())
}

/// A stored scenario's inputs as the domain keeps them.
fn scenario_of(row: ScenarioRow) -> Result<Scenario, String> {
    let currency = currency(&row.currency)?;
    let costs: Vec<Cost> = serde_json::from_value(row.costs)
        .map_err(|e| format!("scenario {}: costs: {e}", row.scenario_id))?;
    let financing = match (row.loan_minor, row.annual_rate_bp, row.term_months) {
        (Some(loan), Some(rate), Some(term)) => Some(Financing {
            loan: Money::new(loan, currency),
            annual_rate_bp: u32::try_from(rate).map_err(|e| e.to_string())?,
            term_months: u32::try_from(term).map_err(|e| e.to_string())?,
        }),
        (None, None, None) => None,
        _ => return Err(format!("scenario {}: partial financing", row.scenario_id)),
    };
    Ok(Scenario {
        id: row.scenario_id,
        name: row.name,
        price: Money::new(row.price_minor, currency),
        costs,
        financing,
    })
}
