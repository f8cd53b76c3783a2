//! The deals read model: one row per deal (detail and pipeline board), every
//! stage change, and the deals' what-if scenarios with their figures
//! (schema in `migrations/projections/deals.sql`).
//!
//! A batch rebuilds each touched deal's domain state from its row (and its
//! scenarios) and folds the events with the domain's own `evolve`, so the
//! stage, the probability (an explicit one holds until the next stage
//! change), the expected value and the scenario figures are exactly what
//! the deals context itself derives.

use super::decode::{big, events_of, int, stream_ids};
use crate::projection::{ApplyError, Projection, Table};
use crate::rows;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deedlog_deals_domain::scenario::{Cost, Financing, Scenario};
use deedlog_deals_domain::state::{evolve, Deal, State};
use deedlog_deals_domain::{Event, Stage};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::{Currency, Money, UserId};
use deedlog_read_model::deals::{DealRow, ScenarioRow, StageChangeRow};
use deedlog_read_model::Int64;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use deedlog_kernel::stream_type::DEAL as STREAM_TYPE;

#[derive(Debug, Clone, Copy)]
pub struct Deals;

const TABLES: &[Table] = &[
    Table {
        name: "deals",
        key: &["deal_id"],
    },
    Table {
        name: "stage_history",
        key: &["deal_id", "position"],
    },
    Table {
        name: "scenarios",
        key: &["deal_id", "scenario_id"],
    },
];

#[async_trait]
impl Projection for Deals {
    fn name(&self) -> &'static str {
        "deals"
    }

    fn ddl(&self) -> &'static str {
        include_str!("../../../../migrations/projections/deals.sql")
    }

    fn tables(&self) -> &'static [Table] {
        TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let decoded = events_of::<Event>(events, STREAM_TYPE)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let ids = stream_ids(&decoded);
        let loaded = rows::load::<DealRow>(conn, "deals", "deal_id", &ids).await?;
        // Only deals that keep scenarios need them: a deal's state is whole
        // without the scenarios table when it has none.
        let with_scenarios: Vec<Uuid> = loaded
            .iter()
            .filter(|row| row.scenario_count > 0)
            .map(|row| row.deal_id)
            .collect();
        let mut kept: HashMap<Uuid, Vec<ScenarioRow>> = HashMap::new();
        for scenario in
            rows::load::<ScenarioRow>(conn, "scenarios", "deal_id", &with_scenarios).await?
        {
            kept.entry(scenario.deal_id).or_default().push(scenario);
        }
        let mut deals = HashMap::with_capacity(ids.len());
        for row in loaded {
            let scenarios = kept.remove(&row.deal_id).unwrap_or_default();
            let id = row.deal_id;
            match Working::from_rows(row, scenarios) {
                Ok(working) => {
                    deals.insert(id, working);
                }
                Err(reason) => {
                    let first = decoded
                        .iter()
                        .find(|(e, _)| e.stream_id.as_uuid() == id)
                        .map(|(e, _)| *e)
                        .expect("every loaded row is one of the batch's deals");
                    return Err(ApplyError::event(
                        first,
                        format!("the deal's stored row is unreadable: {reason}"),
                    ));
                }
            }
        }
        let mut history = Vec::new();
        for (recorded, event) in &decoded {
            apply_one(&mut deals, &mut history, recorded, event)?;
        }
        let mut written = Vec::with_capacity(ids.len());
        let mut rewritten = Vec::new();
        let mut scenario_rows = Vec::new();
        for id in &ids {
            let Some(working) = deals.remove(id) else {
                continue;
            };
            // A figure beyond its column is the deal's last event's error.
            let fail = |reason: String| match decoded
                .iter()
                .rev()
                .find(|(e, _)| e.stream_id.as_uuid() == *id)
            {
                Some((event, _)) => ApplyError::event(event, reason),
                None => ApplyError::Event {
                    position: 0,
                    event_type: String::new(),
                    reason,
                },
            };
            if working.scenarios_need_writing() {
                rewritten.push(*id);
                scenario_rows.extend(working.scenario_rows().map_err(fail)?);
            }
            written.push(working.into_row().map_err(fail)?);
        }
        rows::replace(conn, "deals", "deal_id", &ids, &written).await?;
        rows::insert(conn, "stage_history", &history).await?;
        rows::replace(conn, "scenarios", "deal_id", &rewritten, &scenario_rows).await?;
        Ok(())
    }
}

/// A deal being folded: its row, its state as the domain sees it, and what
/// the domain does not keep about its scenarios.
struct Working {
    row: DealRow,
    /// Always a deal: `evolve` never closes a state it was given open.
    state: State,
    scenarios: HashMap<Uuid, ScenarioMeta>,
    /// The probability the stored scenario rows were computed at (None for
    /// a deal new in this batch).
    stored_pct: Option<u8>,
    scenarios_changed: bool,
}

/// When a scenario was added and last changed.
#[derive(Debug, Clone, Copy)]
struct ScenarioMeta {
    added_position: i64,
    added_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_position: i64,
}

impl Working {
    /// The deal as its stored rows say (scenarios in order of addition).
    fn from_rows(row: DealRow, mut scenarios: Vec<ScenarioRow>) -> Result<Self, String> {
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
    fn scenarios_need_writing(&self) -> bool {
        let Some(deal) = &self.state.0 else {
            return false;
        };
        self.scenarios_changed
            || (!deal.scenarios.is_empty() && self.stored_pct != Some(deal.probability_pct()))
    }

    /// The deal's scenario rows, with their figures at its probability.
    fn scenario_rows(&self) -> Result<Vec<ScenarioRow>, String> {
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
    fn into_row(self) -> Result<DealRow, String> {
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

fn apply_one(
    deals: &mut HashMap<Uuid, Working>,
    history: &mut Vec<StageChangeRow>,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position = big(recorded.position);
    let at = recorded.occurred_at;
    if let Event::DealOpened { .. } = event {
        if deals.contains_key(&id) {
            return Err(ApplyError::event(recorded, "the deal already has a row"));
        }
        one_currency(None, event).map_err(|reason| ApplyError::event(recorded, reason))?;
        let State(Some(deal)) = evolve(State::default(), event) else {
            return Err(ApplyError::event(recorded, "the deal did not open"));
        };
        let row = DealRow {
            deal_id: id,
            tenant_id: recorded.tenant_id.as_uuid(),
            property_id: deal.property,
            buyer_contact_id: deal.buyer,
            agent_id: deal.agent.as_uuid(),
            stage: deal.stage.as_str().to_owned(),
            is_open: true,
            last_open_stage: deal.last_open_stage.as_str().to_owned(),
            stage_entered_at: at,
            // What the state determines is filled in from it by `into_row`.
            currency: None,
            offer_minor: None,
            commission_minor: None,
            probability_pct: 0,
            probability_explicit: false,
            expected_value_minor: None,
            expected_close: None,
            final_price_minor: None,
            lost_reason: None,
            won_at: None,
            lost_at: None,
            closed_at: None,
            reopened_count: 0,
            scenario_count: 0,
            version: Int64(0),
            last_position: Int64(0),
            created_at: at,
            updated_at: at,
        };
        history.push(stage_change(&row, recorded, "opened", None, deal.stage));
        let mut working = Working {
            row,
            state: State(Some(deal)),
            scenarios: HashMap::new(),
            stored_pct: None,
            scenarios_changed: false,
        };
        stamp(&mut working.row, recorded);
        deals.insert(id, working);
        return Ok(());
    }
    let working = deals.get_mut(&id).ok_or_else(|| {
        ApplyError::event(
            recorded,
            "no row for this deal (its opening was not applied)",
        )
    })?;
    if working.row.last_position >= position {
        // Applied before (a replayed dead letter that had gone through).
        return Ok(());
    }
    let Some(deal) = &working.state.0 else {
        return Err(ApplyError::event(recorded, "the deal has no state"));
    };
    one_currency(deal.currency(), event).map_err(|reason| ApplyError::event(recorded, reason))?;
    check_scenario(deal, event).map_err(|reason| ApplyError::event(recorded, reason))?;
    let before = deal.stage;
    working.state = evolve(std::mem::take(&mut working.state), event);
    let Some(after) = working.state.0.as_ref().map(|deal| deal.stage) else {
        return Err(ApplyError::event(recorded, "the deal's state was lost"));
    };
    let row = &mut working.row;
    match event {
        Event::StageMoved { .. } => {
            history.push(stage_change(row, recorded, "moved", Some(before), after));
            row.stage_entered_at = at;
        }
        Event::DealWon { .. } => {
            history.push(stage_change(row, recorded, "won", Some(before), after));
            row.stage_entered_at = at;
            row.won_at = Some(at);
            row.closed_at = Some(at);
        }
        Event::DealLost { .. } => {
            history.push(stage_change(row, recorded, "lost", Some(before), after));
            row.stage_entered_at = at;
            row.lost_at = Some(at);
            row.closed_at = Some(at);
        }
        Event::DealReopened { .. } => {
            history.push(stage_change(row, recorded, "reopened", Some(before), after));
            row.stage_entered_at = at;
            row.won_at = None;
            row.lost_at = None;
            row.closed_at = None;
            row.reopened_count += 1;
        }
        Event::ScenarioAdded { scenario_id, .. } => {
            working.scenarios.insert(
                *scenario_id,
                ScenarioMeta {
                    added_position: position,
                    added_at: at,
                    updated_at: at,
                    last_position: position,
                },
            );
            working.scenarios_changed = true;
        }
        Event::ScenarioUpdated { scenario_id, .. } => {
            if let Some(meta) = working.scenarios.get_mut(scenario_id) {
                meta.updated_at = at;
                meta.last_position = position;
            }
            working.scenarios_changed = true;
        }
        Event::ScenarioRemoved { scenario_id } => {
            working.scenarios.remove(scenario_id);
            working.scenarios_changed = true;
        }
        Event::DealOpened { .. }
        | Event::OfferSet { .. }
        | Event::CommissionSet { .. }
        | Event::ProbabilitySet { .. }
        | Event::ExpectedCloseSet { .. }
        | Event::DealReassigned { .. } => {}
    }
    stamp(&mut working.row, recorded);
    Ok(())
}

fn stamp(row: &mut DealRow, recorded: &RecordedEvent) {
    row.version = big(recorded.version);
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
}

fn stage_change(
    row: &DealRow,
    recorded: &RecordedEvent,
    kind: &str,
    from: Option<Stage>,
    to: Stage,
) -> StageChangeRow {
    StageChangeRow {
        tenant_id: row.tenant_id,
        deal_id: row.deal_id,
        position: big(recorded.position),
        version: big(recorded.version),
        kind: kind.to_owned(),
        from_stage: from.map(|s| s.as_str().to_owned()),
        to_stage: to.as_str().to_owned(),
        changed_at: recorded.occurred_at,
        changed_by: recorded.actor.clone(),
    }
}

/// Refuses an event whose amounts are not all in the deal's one currency
/// (the rules never record one; the row has a single `currency`).
fn one_currency(deal: Option<Currency>, event: &Event) -> Result<(), String> {
    let amounts: Vec<Money> = match event {
        Event::DealOpened {
            offer, commission, ..
        } => offer.iter().chain(commission).copied().collect(),
        Event::DealWon { final_price, .. } => vec![*final_price],
        Event::OfferSet { to, .. } | Event::CommissionSet { to } => vec![*to],
        Event::ScenarioAdded {
            price,
            costs,
            financing,
            ..
        }
        | Event::ScenarioUpdated {
            price,
            costs,
            financing,
            ..
        } => std::iter::once(*price)
            .chain(costs.iter().map(|c| c.amount))
            .chain(financing.map(|f| f.loan))
            .collect(),
        _ => Vec::new(),
    };
    let Some(expected) = deal.or_else(|| amounts.first().map(|m| m.currency)) else {
        return Ok(());
    };
    match amounts.iter().find(|m| m.currency != expected) {
        Some(other) => Err(format!(
            "an amount in {} on a deal in {expected}",
            other.currency
        )),
        None => Ok(()),
    }
}

/// Refuses a scenario event that does not fit the deal's scenarios (the
/// domain's `evolve` would ignore it; the rules never record one).
fn check_scenario(deal: &Deal, event: &Event) -> Result<(), String> {
    let (id, must_exist) = match event {
        Event::ScenarioAdded { scenario_id, .. } => (scenario_id, false),
        Event::ScenarioUpdated { scenario_id, .. } | Event::ScenarioRemoved { scenario_id } => {
            (scenario_id, true)
        }
        _ => return Ok(()),
    };
    match (deal.scenario(*id).is_some(), must_exist) {
        (true, false) => Err(format!("scenario {id} already exists")),
        (false, true) => Err(format!("no scenario {id} on this deal")),
        _ => Ok(()),
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
