//! What can be asked of a property. Time and ids come with the command.

use crate::model::{Address, Attributes, PropertyKind, Source};
use crate::status::ListingStatus;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use uuid::Uuid;

/// An action and the instant it was accepted.
pub type Command = deedlog_kernel::Timed<Action>;

// Create carries the whole record once; boxing it would only add an
// indirection to every match for a value that is built once per command.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        address: Address,
        kind: PropertyKind,
        attributes: Attributes,
        asking_price: Option<Money>,
        agent: Option<UserId>,
        owner: Option<Uuid>,
        tags: Vec<String>,
    },
    ChangeAddress(Address),
    ChangeAttributes(Attributes),
    ChangeAskingPrice(Money),
    RecordValuation {
        value: Money,
        source: Source,
        valued_on: NaiveDate,
    },
    ChangeListingStatus(ListingStatus),
    /// The service has checked that the agent is an active user of the tenant.
    AssignAgent(UserId),
    /// The owner is a contact of the communications context.
    SetOwner(Option<Uuid>),
    AddTag(String),
    RemoveTag(String),
    Archive,
    Restore,
}
