//! The command services as their callers see them (the gateway, the seed,
//! the end-to-end tests): one client per service over its own channel, and
//! the metadata that makes a call someone's call, and a tenant's roster
//! as tenancy names it.

mod caller;
mod clients;
pub mod roster;

pub use caller::{Caller, InvalidToken};
pub use clients::{Clients, Endpoints, Error};
