//! Mutations: one per command of the command services, and the session.

mod command;
mod communications;
mod deals;
mod properties;
mod session;
mod tenancy;

pub use command::{CommandInput, CommandResult, MoneyInput};

use async_graphql::MergedObject;

#[derive(Debug, Default, MergedObject)]
pub struct Mutation(
    session::SessionMutation,
    properties::PropertiesMutation,
    deals::DealsMutation,
    communications::CommunicationsMutation,
    tenancy::TenancyMutation,
);
