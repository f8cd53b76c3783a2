//! What happened to a property. Stored as JSON with the type names below.

use crate::model::{Address, Attributes, PropertyKind, Source};
use crate::status::ListingStatus;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Events of the properties context.
// PropertyCreated carries the whole record once; see `Action`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    PropertyCreated {
        address: Address,
        kind: PropertyKind,
        attributes: Attributes,
        asking_price: Option<Money>,
        agent: Option<UserId>,
        owner: Option<Uuid>,
        tags: BTreeSet<String>,
    },
    AddressChanged {
        address: Address,
    },
    AttributesChanged {
        attributes: Attributes,
    },
    AskingPriceChanged {
        from: Option<Money>,
        to: Money,
    },
    ValuationRecorded {
        value: Money,
        source: Source,
        valued_on: NaiveDate,
    },
    ListingStatusChanged {
        from: ListingStatus,
        to: ListingStatus,
    },
    AgentAssigned {
        from: Option<UserId>,
        to: UserId,
    },
    OwnerSet {
        owner: Option<Uuid>,
    },
    TagAdded {
        tag: String,
    },
    TagRemoved {
        tag: String,
    },
    PropertyArchived {},
    PropertyRestored {},
}

deedlog_kernel::event_types!(Event {
    PropertyCreated,
    AddressChanged,
    AttributesChanged,
    AskingPriceChanged,
    ValuationRecorded,
    ListingStatusChanged,
    AgentAssigned,
    OwnerSet,
    TagAdded,
    TagRemoved,
    PropertyArchived,
    PropertyRestored,
});
