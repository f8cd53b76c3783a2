//! A property's events in words.

use super::{money, words_of, Words};
use deedlog_properties_domain::model::{Address, Attributes, PropertyKind, Source};
use deedlog_properties_domain::Event;
use uuid::Uuid;

/// The users an event names (whose display names the words use).
pub(super) fn users(event: &Event) -> Vec<Uuid> {
    match event {
        Event::PropertyCreated { agent, .. } => agent.iter().map(|a| a.as_uuid()).collect(),
        Event::AgentAssigned { from, to } => from
            .iter()
            .chain(std::iter::once(to))
            .map(|u| u.as_uuid())
            .collect(),
        _ => Vec::new(),
    }
}

/// The event in words, without who did it.
pub(super) fn summary(event: &Event, words: &Words<'_>) -> String {
    match event {
        Event::PropertyCreated {
            address,
            kind,
            asking_price,
            agent,
            ..
        } => {
            let mut text = format!(
                "property created: {} at {}",
                kind_words(*kind),
                place(address)
            );
            if let Some(price) = asking_price {
                text.push_str(&format!(", asking price {}", money(price)));
            }
            if let Some(agent) = agent {
                text.push_str(&format!(", agent {}", words.user(agent.as_uuid())));
            }
            text
        }
        Event::AddressChanged { address } => format!("address changed to {}", place(address)),
        Event::AttributesChanged { attributes } => {
            format!("attributes changed to {}", attributes_words(attributes))
        }
        Event::AskingPriceChanged {
            from: Some(from),
            to,
        } => format!("asking price changed from {} to {}", money(from), money(to)),
        Event::AskingPriceChanged { from: None, to } => {
            format!("asking price set to {}", money(to))
        }
        Event::ValuationRecorded {
            value,
            source,
            valued_on,
        } => format!(
            "valuation of {} recorded for {} (source: {})",
            money(value),
            valued_on.format("%Y-%m-%d"),
            source_words(source)
        ),
        Event::ListingStatusChanged { from, to } => format!(
            "listing status changed from {} to {}",
            words_of(from),
            words_of(to)
        ),
        Event::AgentAssigned { from: None, to } => {
            format!("agent {} assigned", words.user(to.as_uuid()))
        }
        Event::AgentAssigned {
            from: Some(from),
            to,
        } => format!(
            "agent changed from {} to {}",
            words.user(from.as_uuid()),
            words.user(to.as_uuid())
        ),
        // The owner is a contact: named nowhere but in communications.
        Event::OwnerSet { owner: Some(_) } => "owner set".to_owned(),
        Event::OwnerSet { owner: None } => "owner removed".to_owned(),
        Event::TagAdded { tag } => format!("tag \"{tag}\" added"),
        Event::TagRemoved { tag } => format!("tag \"{tag}\" removed"),
        Event::PropertyArchived {} => "property archived".to_owned(),
        Event::PropertyRestored {} => "property restored".to_owned(),
    }
}

fn kind_words(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::House => "house",
        PropertyKind::Apartment => "apartment",
        PropertyKind::MultiFamily => "multi-family house",
        PropertyKind::Land => "plot of land",
        PropertyKind::Commercial => "commercial property",
    }
}

/// `Kastanienallee 12, 10435 Berlin, DE`.
fn place(address: &Address) -> String {
    format!(
        "{}, {} {}, {}",
        address.street, address.postal_code, address.city, address.country
    )
}

fn source_words(source: &Source) -> String {
    match source {
        Source::Manual => "manual".to_owned(),
        Source::Import => "import".to_owned(),
        Source::Provider(name) if name.trim().is_empty() => "provider".to_owned(),
        Source::Provider(name) => name.clone(),
    }
}

/// `4 rooms, 2 bedrooms, 1 bathroom, 98 m² living area, built 1908`, or
/// `nothing known` when every attribute is unknown.
fn attributes_words(attributes: &Attributes) -> String {
    fn count(value: Option<u16>, one: &str, many: &str) -> Option<String> {
        value.map(|n| format!("{n} {}", if n == 1 { one } else { many }))
    }
    let parts: Vec<String> = [
        count(attributes.rooms.as_ref().map(|s| s.value), "room", "rooms"),
        count(
            attributes.bedrooms.as_ref().map(|s| s.value),
            "bedroom",
            "bedrooms",
        ),
        count(
            attributes.bathrooms.as_ref().map(|s| s.value),
            "bathroom",
            "bathrooms",
        ),
        attributes
            .living_area_m2
            .as_ref()
            .map(|s| format!("{} m² living area", s.value)),
        attributes
            .plot_area_m2
            .as_ref()
            .map(|s| format!("{} m² plot", s.value)),
        attributes
            .year_built
            .as_ref()
            .map(|s| format!("built {}", s.value)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "nothing known".to_owned()
    } else {
        parts.join(", ")
    }
}
