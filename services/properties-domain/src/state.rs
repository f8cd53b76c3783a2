//! A property as its events make it.

use crate::event::Event;
use crate::model::{Address, Attributes, PropertyKind, Source};
use crate::status::ListingStatus;
use chrono::NaiveDate;
use deedlog_kernel::{Money, UserId};
use serde::Serialize;
use std::collections::BTreeSet;
use uuid::Uuid;

/// The state of one property; `None` before it is created. Serialised
/// (as the property or `null`) for auditors' state-as-of reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State(pub Option<Property>);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    pub address: Address,
    pub kind: PropertyKind,
    pub attributes: Attributes,
    pub asking_price: Option<Money>,
    pub price_history: Vec<Money>,
    pub valuations: Vec<Valuation>,
    pub status: ListingStatus,
    pub agent: Option<UserId>,
    pub owner: Option<Uuid>,
    pub tags: BTreeSet<String>,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Valuation {
    pub value: Money,
    pub source: Source,
    pub valued_on: NaiveDate,
}

/// Folds one event into the state. Events are facts: an event that does not
/// fit (one for a property never created) leaves the state as it was.
pub fn evolve(state: State, event: &Event) -> State {
    let Some(mut p) = state.0 else {
        return match event {
            Event::PropertyCreated {
                address,
                kind,
                attributes,
                asking_price,
                agent,
                owner,
                tags,
            } => State(Some(Property {
                address: address.clone(),
                kind: *kind,
                attributes: attributes.clone(),
                asking_price: *asking_price,
                price_history: asking_price.iter().copied().collect(),
                valuations: Vec::new(),
                status: ListingStatus::Draft,
                agent: *agent,
                owner: *owner,
                tags: tags.clone(),
                archived: false,
            })),
            _ => State(None),
        };
    };
    match event {
        Event::PropertyCreated { .. } => {}
        Event::AddressChanged { address } => p.address = address.clone(),
        Event::AttributesChanged { attributes } => p.attributes = attributes.clone(),
        Event::AskingPriceChanged { to, .. } => {
            p.asking_price = Some(*to);
            p.price_history.push(*to);
        }
        Event::ValuationRecorded {
            value,
            source,
            valued_on,
        } => p.valuations.push(Valuation {
            value: *value,
            source: source.clone(),
            valued_on: *valued_on,
        }),
        Event::ListingStatusChanged { to, .. } => p.status = *to,
        Event::AgentAssigned { to, .. } => p.agent = Some(*to),
        Event::OwnerSet { owner } => p.owner = *owner,
        Event::TagAdded { tag } => {
            p.tags.insert(tag.clone());
        }
        Event::TagRemoved { tag } => {
            p.tags.remove(tag);
        }
        Event::PropertyArchived {} => p.archived = true,
        Event::PropertyRestored {} => p.archived = false,
    }
    State(Some(p))
}
