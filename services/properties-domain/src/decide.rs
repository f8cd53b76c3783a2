//! The rules: which events a command produces, or why it is refused.

use crate::command::{Action, Command};
use crate::error::Error;
use crate::event::Event;
use crate::model::{normalise_tag, normalise_tags, MAX_TAGS};
use crate::state::{Property, State};
use crate::status::ListingStatus;
use chrono::Datelike;
use deedlog_kernel::Money;

pub fn decide(state: &State, command: &Command) -> Result<Vec<Event>, Error> {
    let year = command.at.year();
    let property = match (&state.0, &command.action) {
        (Some(_), Action::Create { .. }) => return Err(Error::AlreadyExists),
        (
            None,
            Action::Create {
                address,
                kind,
                attributes,
                asking_price,
                agent,
                owner,
                tags,
            },
        ) => {
            let address = address.normalised()?;
            attributes.validate(year)?;
            if let Some(price) = asking_price {
                check_price(price)?;
            }
            return Ok(vec![Event::PropertyCreated {
                address,
                kind: *kind,
                attributes: attributes.clone(),
                asking_price: *asking_price,
                agent: *agent,
                owner: *owner,
                tags: normalise_tags(tags)?,
            }]);
        }
        (None, _) => return Err(Error::NotFound),
        (Some(property), _) => property,
    };
    match &command.action {
        Action::Restore if property.archived => return Ok(vec![Event::PropertyRestored {}]),
        Action::Restore => return Err(Error::NotArchived),
        _ if property.archived => return Err(Error::Archived),
        _ => {}
    }
    decide_change(property, &command.action, year)
}

/// A change to an existing, unarchived property.
fn decide_change(p: &Property, action: &Action, year: i32) -> Result<Vec<Event>, Error> {
    let unless = |unchanged: bool, event: Event| if unchanged { vec![] } else { vec![event] };
    Ok(match action {
        // Both are answered by `decide` first; these are the same answers.
        Action::Create { .. } => return Err(Error::AlreadyExists),
        Action::Restore => return Err(Error::NotArchived),
        Action::ChangeAddress(address) => {
            let address = address.normalised()?;
            unless(address == p.address, Event::AddressChanged { address })
        }
        Action::ChangeAttributes(attributes) => {
            attributes.validate(year)?;
            unless(
                *attributes == p.attributes,
                Event::AttributesChanged {
                    attributes: attributes.clone(),
                },
            )
        }
        Action::ChangeAskingPrice(price) => {
            check_price(price)?;
            if p.status == ListingStatus::Sold {
                return Err(Error::Sold {
                    what: "asking price",
                });
            }
            if let Some(current) = p.asking_price {
                if current.currency != price.currency {
                    return Err(Error::CurrencyMismatch {
                        expected: current.currency.to_string(),
                    });
                }
            }
            unless(
                p.asking_price == Some(*price),
                Event::AskingPriceChanged {
                    from: p.asking_price,
                    to: *price,
                },
            )
        }
        Action::RecordValuation {
            value,
            source,
            valued_on,
        } => {
            check_price(value)?;
            vec![Event::ValuationRecorded {
                value: *value,
                source: source.clone(),
                valued_on: *valued_on,
            }]
        }
        Action::ChangeListingStatus(to) => {
            if p.status == *to {
                return Ok(vec![]);
            }
            if !p.status.may_move_to(*to) {
                return Err(Error::TransitionNotAllowed {
                    from: p.status,
                    to: *to,
                    allowed: p.status.allowed_moves().to_vec(),
                });
            }
            vec![Event::ListingStatusChanged {
                from: p.status,
                to: *to,
            }]
        }
        Action::AssignAgent(agent) => unless(
            p.agent == Some(*agent),
            Event::AgentAssigned {
                from: p.agent,
                to: *agent,
            },
        ),
        Action::SetOwner(owner) => unless(p.owner == *owner, Event::OwnerSet { owner: *owner }),
        Action::AddTag(tag) => {
            let tag = normalise_tag(tag)?;
            if !p.tags.contains(&tag) && p.tags.len() >= MAX_TAGS {
                return Err(Error::Invalid {
                    field: "tag",
                    reason: "at most 50 tags per property".to_owned(),
                });
            }
            unless(p.tags.contains(&tag), Event::TagAdded { tag })
        }
        Action::RemoveTag(tag) => {
            let tag = normalise_tag(tag)?;
            unless(!p.tags.contains(&tag), Event::TagRemoved { tag })
        }
        Action::Archive => vec![Event::PropertyArchived {}],
    })
}

/// An asking price or a valuation: more than 0, at most 10^13 minor units
/// ([`deedlog_kernel::money::MAX_AMOUNT_MINOR`]).
fn check_price(price: &Money) -> Result<(), Error> {
    let reason = if price.amount_minor <= 0 {
        "must be greater than 0"
    } else if price.amount_minor > deedlog_kernel::money::MAX_AMOUNT_MINOR {
        "must be at most 10^13 minor units"
    } else {
        return Ok(());
    };
    Err(Error::Invalid {
        field: "price.amount_minor",
        reason: reason.to_owned(),
    })
}
