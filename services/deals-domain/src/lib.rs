//! The deals context's rules, pure: no I/O, no clock, no randomness.
//!
//! A deal moves lead → qualified → viewing → offer → negotiation →
//! under_contract → closed_won, one step at a time (a step back is allowed
//! while open), and from any open stage to closed_lost with a reason. Closed
//! deals accept nothing but reopen, which returns them to their last open
//! stage. Each stage has a default probability that an explicit one
//! overrides until the next stage change; expected value = offer ×
//! probability. All amounts of a deal share one currency.
//!
//! A deal also keeps up to 20 named what-if scenarios (a price, costs and an
//! optional annuity loan); [`figures`] derives from them, in integer
//! arithmetic, the costs, the instalment, the interest, the equity needed and
//! the expected value (price − costs − interest) × probability.

pub mod command;
pub mod decide;
pub mod error;
pub mod event;
pub mod figures;
mod refusal;
pub mod scenario;
pub mod stage;
pub mod state;

pub use command::{Action, Command};
pub use error::Error;
pub use event::Event;
pub use figures::{figures, ScenarioFigures};
pub use scenario::{Cost, Financing, Scenario};
pub use stage::Stage;
pub use state::{Deal, State};

deedlog_kernel::decider! {
    /// The deals decider.
    pub struct Deals: DEAL, State, Command => Event, Error;
    decide = decide::decide, evolve = state::evolve
}
