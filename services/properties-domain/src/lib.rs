//! The properties context's rules, pure: no I/O, no clock, no randomness.
//!
//! A property has an address, a kind, sourced attributes, an asking price
//! with its history, valuations, a listing status that moves only along
//! draft → active → reserved → under_contract → sold (active, reserved and
//! under_contract may be withdrawn; withdrawn may become active again; sold
//! is final), an assigned agent, an owner contact and tags. An archived
//! property accepts no change until restored. Repeating a change that is
//! already in effect produces no event.

pub mod command;
pub mod decide;
pub mod error;
pub mod event;
pub mod model;
pub mod state;
pub mod status;

pub use command::{Action, Command};
pub use error::Error;
pub use event::Event;
pub use state::{Property, State};
pub use status::ListingStatus;

/// The properties decider, for [`deedlog_kernel::DeciderSpec`] and services.
#[derive(Debug)]
pub struct Properties;

impl deedlog_kernel::Decider for Properties {
    const STREAM_TYPE: &'static str = deedlog_kernel::stream_type::PROPERTY;
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(state: &State, command: &Command) -> Result<Vec<Event>, Error> {
        decide::decide(state, command)
    }

    fn evolve(state: State, event: &Event) -> State {
        state::evolve(state, event)
    }
}
