//! A deal's events in words.

use super::{money, words_of, Words};
use deedlog_deals_domain::{Cost, Event, Financing};
use deedlog_kernel::Money;
use uuid::Uuid;

/// The users an event names (whose display names the words use).
pub(super) fn users(event: &Event) -> Vec<Uuid> {
    match event {
        Event::DealOpened { agent, .. } => vec![agent.as_uuid()],
        Event::DealReassigned { from, to } => vec![from.as_uuid(), to.as_uuid()],
        _ => Vec::new(),
    }
}

/// Whether the event adds, changes or removes a scenario (whose name the
/// timeline keeps).
pub(super) fn touches_scenarios(event: &Event) -> bool {
    matches!(
        event,
        Event::ScenarioAdded { .. } | Event::ScenarioUpdated { .. } | Event::ScenarioRemoved { .. }
    )
}

/// The event in words, without who did it. `scenario_name` gives the name
/// of a scenario of this deal as last added or updated.
pub(super) fn summary(
    event: &Event,
    words: &Words<'_>,
    scenario_name: &dyn Fn(Uuid) -> Option<String>,
) -> String {
    match event {
        Event::DealOpened {
            agent,
            offer,
            commission,
            expected_close,
            ..
        } => {
            // The buyer is a contact: named nowhere but in communications.
            let mut text = format!("deal opened at lead, agent {}", words.user(agent.as_uuid()));
            if let Some(offer) = offer {
                text.push_str(&format!(", offer {}", money(offer)));
            }
            if let Some(commission) = commission {
                text.push_str(&format!(", commission {}", money(commission)));
            }
            if let Some(date) = expected_close {
                text.push_str(&format!(", expected close {}", date.format("%Y-%m-%d")));
            }
            text
        }
        Event::StageMoved { from, to } => {
            format!("stage moved from {} to {}", words_of(from), words_of(to))
        }
        Event::DealWon { from, final_price } => format!(
            "deal won from {}, final price {}",
            words_of(from),
            money(final_price)
        ),
        Event::DealLost { from, reason } => {
            format!("deal lost from {} (reason: \"{reason}\")", words_of(from))
        }
        Event::OfferSet {
            from: Some(from),
            to,
        } => {
            format!("offer changed from {} to {}", money(from), money(to))
        }
        Event::OfferSet { from: None, to } => format!("offer set to {}", money(to)),
        Event::CommissionSet { to } => format!("commission set to {}", money(to)),
        Event::ProbabilitySet { pct: Some(pct) } => format!("probability set to {pct}%"),
        Event::ProbabilitySet { pct: None } => {
            "probability reset to the stage's default".to_owned()
        }
        Event::ExpectedCloseSet { date: Some(date) } => {
            format!("expected close set to {}", date.format("%Y-%m-%d"))
        }
        Event::ExpectedCloseSet { date: None } => "expected close cleared".to_owned(),
        Event::DealReassigned { from, to } => format!(
            "deal reassigned from {} to {}",
            words.user(from.as_uuid()),
            words.user(to.as_uuid())
        ),
        Event::DealReopened { to } => format!("deal reopened at {}", words_of(to)),
        Event::ScenarioAdded {
            name,
            price,
            costs,
            financing,
            ..
        } => format!(
            "scenario \"{name}\" added: {}",
            scenario_words(price, costs, financing.as_ref())
        ),
        Event::ScenarioUpdated {
            scenario_id,
            name,
            price,
            costs,
            financing,
        } => {
            let inputs = scenario_words(price, costs, financing.as_ref());
            match scenario_name(*scenario_id) {
                Some(before) if before != *name => {
                    format!("scenario \"{before}\" renamed to \"{name}\" and updated: {inputs}")
                }
                _ => format!("scenario \"{name}\" updated: {inputs}"),
            }
        }
        Event::ScenarioRemoved { scenario_id } => match scenario_name(*scenario_id) {
            Some(name) => format!("scenario \"{name}\" removed"),
            None => format!("scenario {scenario_id} removed"),
        },
    }
}

/// `price 615,000.00 EUR, 2 costs totalling 49,200.00 EUR, loan
/// 492,000.00 EUR at 3.65% over 360 months`.
fn scenario_words(price: &Money, costs: &[Cost], financing: Option<&Financing>) -> String {
    let costs = match costs {
        [] => "no costs".to_owned(),
        [cost] => format!("1 cost of {}", money(&cost.amount)),
        _ => {
            let total = costs.iter().fold(0i64, |sum, cost| {
                sum.saturating_add(cost.amount.amount_minor)
            });
            format!(
                "{} costs totalling {}",
                costs.len(),
                money(&Money::new(total, price.currency))
            )
        }
    };
    let financing = match financing {
        None => "no financing".to_owned(),
        Some(f) => format!(
            "loan {} at {}.{:02}% over {} months",
            money(&f.loan),
            f.annual_rate_bp / 100,
            f.annual_rate_bp % 100,
            f.term_months
        ),
    };
    format!("price {}, {costs}, {financing}", money(price))
}
