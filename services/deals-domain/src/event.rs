//! What happened to a deal.

use crate::scenario::{Cost, Financing};
use crate::stage::Stage;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    DealOpened {
        property: Uuid,
        buyer: Uuid,
        agent: UserId,
        offer: Option<Money>,
        commission: Option<Money>,
        expected_close: Option<NaiveDate>,
    },
    StageMoved {
        from: Stage,
        to: Stage,
    },
    DealWon {
        from: Stage,
        final_price: Money,
    },
    DealLost {
        from: Stage,
        reason: String,
    },
    OfferSet {
        from: Option<Money>,
        to: Money,
    },
    CommissionSet {
        to: Money,
    },
    ProbabilitySet {
        pct: Option<u8>,
    },
    ExpectedCloseSet {
        date: Option<NaiveDate>,
    },
    DealReassigned {
        from: UserId,
        to: UserId,
    },
    DealReopened {
        to: Stage,
    },
    /// Inputs only: the figures are derived when asked for.
    ScenarioAdded {
        scenario_id: Uuid,
        name: String,
        price: Money,
        costs: Vec<Cost>,
        financing: Option<Financing>,
    },
    ScenarioUpdated {
        scenario_id: Uuid,
        name: String,
        price: Money,
        costs: Vec<Cost>,
        financing: Option<Financing>,
    },
    ScenarioRemoved {
        scenario_id: Uuid,
    },
}

deedlog_kernel::event_types!(Event {
    DealOpened,
    StageMoved,
    DealWon,
    DealLost,
    OfferSet,
    CommissionSet,
    ProbabilitySet,
    ExpectedCloseSet,
    DealReassigned,
    DealReopened,
    ScenarioAdded,
    ScenarioUpdated,
    ScenarioRemoved,
});
