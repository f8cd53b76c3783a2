//! Deal streams: each deal's state in `deal_state`, folded with the deals
//! domain's own `evolve`, and what each event changes in the pipeline, the
//! funnel and the leaderboard (the deal's contribution before the event is
//! taken out, the one after it added).

use super::counters::Deltas;
use super::pipeline::{Change, Contribution};
use crate::projection::ApplyError;
use crate::projections::decode::{big, stream_ids};
use crate::rows::{self, keyed};
use deedlog_deals_domain::state::evolve;
use deedlog_deals_domain::{Deal, Event, Stage, State};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::{Currency, Money, UserId};
use deedlog_read_model::analytics::{DealStateRow, FunnelRow, LeaderRow};
use deedlog_read_model::Int64;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// The currency a deal is counted under while none of its amounts is
/// known (ISO 4217 "no currency").
pub const NO_CURRENCY: &str = "XXX";

/// What a batch of deal events changes in the aggregates.
#[derive(Debug, Default)]
pub struct DealEffects {
    pub pipeline: Vec<Change>,
    pub funnel: Deltas<FunnelRow>,
    pub leaderboard: Deltas<LeaderRow>,
}

/// Folds the batch's deal events: loads their states with one statement,
/// writes them back with two, and collects their effects.
pub async fn apply(
    conn: &mut PgConnection,
    events: &[(&RecordedEvent, Event)],
    effects: &mut DealEffects,
) -> Result<(), ApplyError> {
    if events.is_empty() {
        return Ok(());
    }
    let ids = stream_ids(events);
    let loaded = rows::load(conn, "deal_state", "deal_id", &ids).await?;
    let mut states: HashMap<_, _> = keyed(loaded, |row: &DealStateRow| row.deal_id);
    for (recorded, event) in events {
        apply_one(&mut states, effects, recorded, event)?;
    }
    let written: Vec<DealStateRow> = ids.iter().filter_map(|id| states.remove(id)).collect();
    rows::replace(conn, "deal_state", "deal_id", &ids, &written).await
}

fn apply_one(
    states: &mut HashMap<Uuid, DealStateRow>,
    effects: &mut DealEffects,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let at = recorded.occurred_at;
    let opening = matches!(event, Event::DealOpened { .. });
    let (row, before) = match (states.contains_key(&id), opening) {
        (false, true) => {
            let deal = evolve(State(None), event)
                .0
                .ok_or_else(|| ApplyError::event(recorded, "the deal did not open"))?;
            let row = DealStateRow {
                deal_id: id,
                tenant_id: recorded.tenant_id.as_uuid(),
                property_id: deal.property,
                buyer_id: deal.buyer,
                agent_id: deal.agent.as_uuid(),
                stage: String::new(),
                last_open_stage: String::new(),
                offer_minor: None,
                commission_minor: None,
                final_price_minor: None,
                currency: None,
                probability_pct: None,
                entered_stage_at: at,
                reached_stages: Vec::new(),
                version: 0,
                last_position: 0,
            };
            (states.entry(id).or_insert(row), None)
        }
        (false, false) => {
            return Err(ApplyError::event(
                recorded,
                "no state for this deal (its opening was not applied)",
            ))
        }
        (true, true) => return Err(ApplyError::event(recorded, "the deal is already open")),
        (true, false) => {
            let Some(row) = states.get_mut(&id) else {
                return Ok(());
            };
            if row.last_position >= big(recorded.position) {
                // Applied before (a replayed dead letter that had gone through).
                return Ok(());
            }
            let deal = to_deal(row).map_err(|reason| ApplyError::event(recorded, reason))?;
            (row, Some(deal))
        }
    };
    let after = evolve(State(before.clone()), event)
        .0
        .ok_or_else(|| ApplyError::event(recorded, "the deal has no state after the event"))?;
    let pipeline_before = before.as_ref().and_then(|d| pipeline_of(row, d));
    let leaderboard_before = before
        .as_ref()
        .map(|d| (leaderboard_of(row, d, 1), leaderboard_of(row, d, -1)));
    let stage_before = before.as_ref().map(|d| d.stage);
    set(row, &after);
    let tenant_id = row.tenant_id;

    if stage_before != Some(after.stage) {
        if let Some(left) = stage_before {
            let mut exit = FunnelRow::new(tenant_id, left.as_str());
            exit.exits = 1;
            exit.total_seconds = (at - row.entered_stage_at).num_seconds().max(0);
            effects.funnel.add(exit);
        }
        let mut entry = FunnelRow::new(tenant_id, after.stage.as_str());
        entry.entries = 1;
        let stage = after.stage.as_str().to_owned();
        if !row.reached_stages.contains(&stage) {
            entry.deals_reached = 1;
            row.reached_stages.push(stage);
        }
        effects.funnel.add(entry);
        row.entered_stage_at = at;
    }

    let pipeline_after = pipeline_of(row, &after);
    if pipeline_before != pipeline_after {
        effects.pipeline.push(Change {
            tenant_id,
            day: at.date_naive(),
            before: pipeline_before,
            after: pipeline_after,
        });
    }
    let leaderboard_after = leaderboard_of(row, &after, 1);
    match leaderboard_before {
        Some((same, _)) if same == leaderboard_after => {}
        Some((_, taken_out)) => {
            effects.leaderboard.add(taken_out);
            effects.leaderboard.add(leaderboard_after);
        }
        None => effects.leaderboard.add(leaderboard_after),
    }

    row.version = big(recorded.version);
    row.last_position = big(recorded.position);
    Ok(())
}

/// The deal a state row stands for, as the deals domain models it (the
/// parts the aggregates need: no scenarios, dates or lost reason).
fn to_deal(row: &DealStateRow) -> Result<Deal, String> {
    let stage = |text: &str| {
        Stage::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("deal_state has an unknown stage {text:?}"))
    };
    let currency = row
        .currency
        .as_deref()
        .map(Currency::new)
        .transpose()
        .map_err(|e| e.to_string())?;
    let money = |amount: Option<i64>| match (amount, currency) {
        (None, _) => Ok(None),
        (Some(minor), Some(currency)) => Ok(Some(Money::new(minor, currency))),
        (Some(_), None) => Err("deal_state has an amount without a currency".to_owned()),
    };
    Ok(Deal {
        property: row.property_id,
        buyer: row.buyer_id,
        agent: UserId::from_uuid(row.agent_id),
        stage: stage(&row.stage)?,
        last_open_stage: stage(&row.last_open_stage)?,
        offer: money(row.offer_minor)?,
        commission: money(row.commission_minor)?,
        probability_override: row.probability_pct.and_then(|p| u8::try_from(p).ok()),
        expected_close: None,
        final_price: money(row.final_price_minor)?,
        lost_reason: None,
        scenarios: Vec::new(),
    })
}

/// Copies what the aggregates need from the deal into its row; the
/// currency, once known, stays (a scenario's price may have fixed it).
fn set(row: &mut DealStateRow, deal: &Deal) {
    row.agent_id = deal.agent.as_uuid();
    row.stage = deal.stage.as_str().to_owned();
    row.last_open_stage = deal.last_open_stage.as_str().to_owned();
    row.offer_minor = deal.offer.map(|m| m.amount_minor);
    row.commission_minor = deal.commission.map(|m| m.amount_minor);
    row.final_price_minor = deal.final_price.map(|m| m.amount_minor);
    row.probability_pct = deal.probability_override.map(i16::from);
    if row.currency.is_none() {
        row.currency = deal.currency().map(|c| c.code().to_owned());
    }
}

fn currency_of(row: &DealStateRow) -> String {
    row.currency
        .clone()
        .unwrap_or_else(|| NO_CURRENCY.to_owned())
}

/// What an open deal adds to the pipeline: its offer and its expected
/// value (offer × probability, by the deals domain's rule).
fn pipeline_of(row: &DealStateRow, deal: &Deal) -> Option<Contribution> {
    deal.stage.is_open().then(|| Contribution {
        stage: deal.stage.as_str(),
        currency: currency_of(row),
        offer_minor: deal.offer.map_or(0, |m| m.amount_minor),
        weighted_minor: deal.expected_value().map_or(0, |m| m.amount_minor),
    })
}

/// What the deal adds to its agent's leaderboard row, times `sign`.
fn leaderboard_of(row: &DealStateRow, deal: &Deal, sign: i64) -> LeaderRow {
    let won = deal.stage == Stage::ClosedWon;
    let amount = |m: Option<Money>| sign.saturating_mul(m.map_or(0, |m| m.amount_minor));
    LeaderRow {
        tenant_id: row.tenant_id,
        agent_id: deal.agent.as_uuid(),
        currency: currency_of(row),
        deals_won: if won { sign } else { 0 },
        won_volume_minor: if won {
            Int64(amount(deal.final_price))
        } else {
            Int64(0)
        },
        commission_minor: if won {
            Int64(amount(deal.commission))
        } else {
            Int64(0)
        },
        deals_lost: if deal.stage == Stage::ClosedLost {
            sign
        } else {
            0
        },
        open_deals: if deal.stage.is_open() { sign } else { 0 },
    }
}
