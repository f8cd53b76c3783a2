//! What can be asked of a deal. Time and ids come with the command; who may
//! ask (reopen is for admins and managers) is checked by the service.

use crate::scenario::{Cost, Financing};
use crate::stage::Stage;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use uuid::Uuid;

/// An action and the instant it was accepted.
pub type Command = deedlog_kernel::Timed<Action>;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Open {
        property: Uuid,
        /// The buyer or investor: a contact of the communications context.
        buyer: Uuid,
        agent: UserId,
        offer: Option<Money>,
        commission: Option<Money>,
        expected_close: Option<NaiveDate>,
    },
    /// One step forward or back between open stages.
    MoveStage(Stage),
    /// From under_contract; records the final price.
    Win {
        final_price: Money,
    },
    /// From any open stage; a reason is required.
    Lose {
        reason: String,
    },
    SetOffer(Money),
    SetCommission(Money),
    /// An explicit probability in percent, or None for the stage's default.
    SetProbability(Option<u8>),
    SetExpectedClose(Option<NaiveDate>),
    Reassign(UserId),
    Reopen,
    /// A new what-if scenario under an id the caller chose.
    AddScenario {
        scenario_id: Uuid,
        name: String,
        price: Money,
        costs: Vec<Cost>,
        financing: Option<Financing>,
    },
    /// Replaces every input of a scenario.
    UpdateScenario {
        scenario_id: Uuid,
        name: String,
        price: Money,
        costs: Vec<Cost>,
        financing: Option<Financing>,
    },
    RemoveScenario {
        scenario_id: Uuid,
    },
}
