//! One event folded into its deal: the row it opens or changes, and the
//! stage changes it records.

use super::checks::{check_scenario, one_currency};
use super::working::{ScenarioMeta, Working};
use crate::projection::ApplyError;
use crate::projections::applied::unapplied;
use crate::projections::decode::big;
use deedlog_deals_domain::state::{evolve, State};
use deedlog_deals_domain::{Event, Stage};
use deedlog_eventstore::RecordedEvent;
use deedlog_read_model::deals::{DealRow, StageChangeRow};
use deedlog_read_model::Int64;
use std::collections::HashMap;
use uuid::Uuid;

/// Folds one event into its deal, recording any stage change it makes.
pub(super) fn apply_one(
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
    let missing = "no row for this deal (its opening was not applied)";
    let Some(working) = unapplied(deals, recorded, missing, |w| w.row.last_position)? else {
        return Ok(());
    };
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
