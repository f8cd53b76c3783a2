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

deedlog_kernel::decider! {
    /// The properties decider, for [`deedlog_kernel::DeciderSpec`] and services.
    pub struct Properties: PROPERTY, State, Command => Event, Error;
    decide = decide::decide, evolve = state::evolve
}
