//! What an event must fit before it is folded: one currency per deal, and
//! scenarios that exist (or not yet).

use deedlog_deals_domain::state::Deal;
use deedlog_deals_domain::Event;
use deedlog_kernel::{Currency, Money};

/// Refuses an event whose amounts are not all in the deal's one currency
/// (the rules never record one; the row has a single `currency`).
pub(super) fn one_currency(deal: Option<Currency>, event: &Event) -> Result<(), String> {
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
pub(super) fn check_scenario(deal: &Deal, event: &Event) -> Result<(), String> {
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
