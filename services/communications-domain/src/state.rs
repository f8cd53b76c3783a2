//! A contact as its events make it: details, compliance profile, whether the
//! cadence is paused, and every message to and from them.

use crate::compliance::{Compliance, Consent};
use crate::event::Event;
use crate::model::{Channel, PostalAddress};
use chrono::{DateTime, Utc};
use deedlog_kernel::privacy::ERASED;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The state of one contact; `None` before it is created. Serialised (as
/// the contact or `null`) for auditors' state-as-of reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State(pub Option<Contact>);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<PostalAddress>,
    pub compliance: Compliance,
    /// When a reply paused the cadence; None while messages may go out.
    pub paused_since: Option<DateTime<Utc>>,
    pub messages: BTreeMap<Uuid, Message>,
    /// Provider report ids already recorded, so a retried webhook changes nothing.
    pub provider_events: BTreeSet<String>,
    /// Whether the contact was forgotten (right to erasure): their details
    /// read as erased and the contact takes no more commands.
    pub forgotten: bool,
}

impl Contact {
    fn new(
        name: &str,
        email: &Option<String>,
        phone: &Option<String>,
        address: &Option<PostalAddress>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            email: email.clone(),
            phone: phone.clone(),
            address: address.clone(),
            compliance: Compliance::default(),
            paused_since: None,
            messages: BTreeMap::new(),
            provider_events: BTreeSet::new(),
            forgotten: false,
        }
    }

    /// The contact as a reader without their data key sees them (ADR 0035):
    /// the name, email and phone read [`ERASED`], the postal address is
    /// gone. The state keeps no message texts, so messages stay as they are.
    fn forget(&mut self) {
        let erased = || ERASED.to_owned();
        self.name = erased();
        self.email = self.email.as_ref().map(|_| erased());
        self.phone = self.phone.as_ref().map(|_| erased());
        self.address = None;
        self.forgotten = true;
    }

    /// Whether the contact has the email, phone or postal address `channel` needs.
    pub fn can_reach(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms | Channel::Call => self.phone.is_some(),
            Channel::Letter => self.address.is_some(),
        }
    }

    /// How many messages were queued for the contact after `after` and up to
    /// `up_to`; refused and inbound messages do not count.
    pub fn sent_between(&self, after: DateTime<Utc>, up_to: DateTime<Utc>) -> usize {
        self.messages
            .values()
            .filter(|m| m.was_sent() && after < m.at && m.at <= up_to)
            .count()
    }
}

/// One message to or from the contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub conversation_id: Uuid,
    pub channel: Channel,
    pub direction: Direction,
    pub status: MessageStatus,
    /// When it was queued, refused or received.
    pub at: DateTime<Utc>,
}

impl Message {
    /// Whether it went out to a provider (and so may get delivery reports).
    pub fn was_sent(&self) -> bool {
        self.direction == Direction::Outbound && self.status != MessageStatus::Refused
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Outbound,
    Inbound,
}

/// How far a message got. Reports may arrive out of order, so a status only
/// moves forward (queued → delivered → opened); a bounce overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Refused,
    Queued,
    Delivered,
    Opened,
    Bounced { hard: bool },
    Received,
}

/// Folds one event into the state; an event that does not fit leaves it as is.
pub fn evolve(state: State, event: &Event) -> State {
    let Some(mut contact) = state.0 else {
        return match event {
            Event::ContactCreated {
                name,
                email,
                phone,
                address,
            } => State(Some(Contact::new(name, email, phone, address))),
            _ => State(None),
        };
    };
    let compliance = &mut contact.compliance;
    match event {
        Event::ContactCreated { .. } => {}
        Event::ContactUpdated {
            name,
            email,
            phone,
            address,
        } => {
            contact.name = name.clone();
            contact.email = email.clone();
            contact.phone = phone.clone();
            contact.address = address.clone();
        }
        Event::HardBounceCleared { channel } => {
            compliance.profile_mut(*channel).hard_bounced = false
        }
        Event::ConsentGranted {
            channel,
            lawful_basis,
            source,
        } => {
            compliance.profile_mut(*channel).consent = Some(Consent::Granted {
                lawful_basis: *lawful_basis,
                source: source.clone(),
            });
        }
        Event::ConsentWithdrawn { channel, source } => {
            compliance.profile_mut(*channel).consent = Some(Consent::Withdrawn {
                source: source.clone(),
            });
        }
        Event::DoNotCallSet {} => compliance.do_not_call = true,
        Event::DoNotCallCleared {} => compliance.do_not_call = false,
        Event::Unsubscribed { .. } => compliance.unsubscribed = true,
        Event::UnsubscribeCleared {} => compliance.unsubscribed = false,
        Event::MessageQueued {
            message_id,
            conversation_id,
            channel,
            at,
            ..
        }
        | Event::MessageRefused {
            message_id,
            conversation_id,
            channel,
            at,
            ..
        } => {
            let status = match event {
                Event::MessageRefused { .. } => MessageStatus::Refused,
                _ => MessageStatus::Queued,
            };
            add_message(
                &mut contact,
                *message_id,
                *conversation_id,
                *channel,
                *at,
                Direction::Outbound,
                status,
            );
        }
        Event::MessageDelivered {
            message_id,
            provider_event_id,
            ..
        } => report(&mut contact, *message_id, provider_event_id, |s| match s {
            MessageStatus::Queued => MessageStatus::Delivered,
            other => other,
        }),
        Event::MessageOpened {
            message_id,
            provider_event_id,
            ..
        } => report(&mut contact, *message_id, provider_event_id, |s| match s {
            MessageStatus::Queued | MessageStatus::Delivered => MessageStatus::Opened,
            other => other,
        }),
        Event::MessageBounced {
            message_id,
            channel,
            hard,
            provider_event_id,
            ..
        } => {
            report(&mut contact, *message_id, provider_event_id, |_| {
                MessageStatus::Bounced { hard: *hard }
            });
            if *hard {
                contact.compliance.profile_mut(*channel).hard_bounced = true;
            }
        }
        Event::ReplyReceived {
            message_id,
            conversation_id,
            channel,
            provider_event_id,
            at,
            ..
        } => {
            add_message(
                &mut contact,
                *message_id,
                *conversation_id,
                *channel,
                *at,
                Direction::Inbound,
                MessageStatus::Received,
            );
            contact.provider_events.insert(provider_event_id.clone());
            // The pause dates from the first reply; later ones keep it paused.
            contact.paused_since.get_or_insert(*at);
        }
        Event::CadenceResumed {} => contact.paused_since = None,
        Event::ContactForgotten {} => contact.forget(),
    }
    State(Some(contact))
}

fn add_message(
    contact: &mut Contact,
    id: Uuid,
    conversation_id: Uuid,
    channel: Channel,
    at: DateTime<Utc>,
    direction: Direction,
    status: MessageStatus,
) {
    contact.messages.entry(id).or_insert(Message {
        conversation_id,
        channel,
        direction,
        status,
        at,
    });
}

fn report(
    contact: &mut Contact,
    id: Uuid,
    provider_event_id: &str,
    next: impl FnOnce(MessageStatus) -> MessageStatus,
) {
    contact.provider_events.insert(provider_event_id.to_owned());
    if let Some(message) = contact.messages.get_mut(&id) {
        message.status = next(message.status);
    }
}
