//! A deal as its events make it, with its probability and expected value.

use crate::event::Event;
use crate::scenario::{self, Scenario};
use crate::stage::Stage;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use serde::Serialize;
use uuid::Uuid;

/// The state of one deal; `None` before it is opened. Serialised (as the
/// deal or `null`) for auditors' state-as-of reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State(pub Option<Deal>);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deal {
    pub property: Uuid,
    pub buyer: Uuid,
    pub agent: UserId,
    pub stage: Stage,
    /// The open stage a reopened deal returns to.
    pub last_open_stage: Stage,
    pub offer: Option<Money>,
    pub commission: Option<Money>,
    pub probability_override: Option<u8>,
    pub expected_close: Option<NaiveDate>,
    pub final_price: Option<Money>,
    pub lost_reason: Option<String>,
    /// What-if scenarios in the order they were added.
    pub scenarios: Vec<Scenario>,
}

impl Deal {
    /// The explicit probability if set, else the stage's default.
    pub fn probability_pct(&self) -> u8 {
        self.probability_override
            .unwrap_or_else(|| self.stage.default_probability_pct())
    }

    /// Offer amount × probability, rounded to the nearest minor unit; None
    /// without an offer, or, like [`crate::figures`], for a figure beyond an
    /// i64 (never under the rules: they keep the probability at most 100%,
    /// so the figure is at most the offer).
    pub fn expected_value(&self) -> Option<Money> {
        self.offer.and_then(|offer| {
            let scaled = i128::from(offer.amount_minor) * i128::from(self.probability_pct());
            let rounded = (scaled + 50).div_euclid(100);
            Some(Money::new(i64::try_from(rounded).ok()?, offer.currency))
        })
    }

    /// The currency of the deal's amounts, once one is known; a scenario's
    /// price fixes it too, so a later offer cannot bring a second currency.
    pub fn currency(&self) -> Option<deedlog_kernel::Currency> {
        self.offer
            .or(self.commission)
            .or(self.final_price)
            .or_else(|| self.scenarios.first().map(|s| s.price))
            .map(|m| m.currency)
    }
}

/// Folds one event into the state; an event that does not fit leaves it as is.
pub fn evolve(state: State, event: &Event) -> State {
    let Some(mut deal) = state.0 else {
        return match event {
            Event::DealOpened {
                property,
                buyer,
                agent,
                offer,
                commission,
                expected_close,
            } => State(Some(Deal {
                property: *property,
                buyer: *buyer,
                agent: *agent,
                stage: Stage::Lead,
                last_open_stage: Stage::Lead,
                offer: *offer,
                commission: *commission,
                probability_override: None,
                expected_close: *expected_close,
                final_price: None,
                lost_reason: None,
                scenarios: Vec::new(),
            })),
            _ => State(None),
        };
    };
    match event {
        Event::DealOpened { .. } => {}
        Event::StageMoved { to, .. } => {
            deal.stage = *to;
            deal.last_open_stage = *to;
            // A stage change resets an explicit probability to the new stage's default.
            deal.probability_override = None;
        }
        Event::DealWon { final_price, .. } => {
            deal.stage = Stage::ClosedWon;
            deal.final_price = Some(*final_price);
            deal.probability_override = None;
        }
        Event::DealLost { reason, .. } => {
            deal.stage = Stage::ClosedLost;
            deal.lost_reason = Some(reason.clone());
            deal.probability_override = None;
        }
        Event::OfferSet { to, .. } => deal.offer = Some(*to),
        Event::CommissionSet { to } => deal.commission = Some(*to),
        Event::ProbabilitySet { pct } => deal.probability_override = *pct,
        Event::ExpectedCloseSet { date } => deal.expected_close = *date,
        Event::DealReassigned { to, .. } => deal.agent = *to,
        Event::DealReopened { to } => {
            deal.stage = *to;
            deal.final_price = None;
            deal.lost_reason = None;
        }
        Event::ScenarioAdded { .. }
        | Event::ScenarioUpdated { .. }
        | Event::ScenarioRemoved { .. } => scenario::evolve(&mut deal.scenarios, event),
    }
    State(Some(deal))
}
