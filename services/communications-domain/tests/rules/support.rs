//! Shared fixtures: a contact, its consents, messages and a fixed clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_communications_domain::{
    Action, Channel, Command, Communications, Event, LawfulBasis, PostalAddress, SendPolicy, State,
};
use deedlog_kernel::{replay, DeciderSpec};
use uuid::Uuid;

pub type Spec = DeciderSpec<Communications>;

/// Monday 2026-11-23, 12:00 UTC: outside quiet hours.
pub fn noon() -> DateTime<Utc> {
    utc(2026, 11, 23, 12, 0)
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid instant")
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn when(action: Action) -> Command {
    at(noon(), action)
}

pub fn at(at: DateTime<Utc>, action: Action) -> Command {
    Command { at, action }
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// The conversation every fixture message belongs to.
pub fn conversation() -> Uuid {
    id(500)
}

pub fn address() -> PostalAddress {
    PostalAddress {
        street: "Lindenallee 4".into(),
        postal_code: "10115".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    }
}

pub fn created() -> Event {
    Event::ContactCreated {
        name: "Clara Vogel".into(),
        email: Some("clara@vogel.example".into()),
        phone: Some("+4915112345678".into()),
        address: Some(address()),
    }
}

pub fn granted(channel: Channel) -> Event {
    Event::ConsentGranted {
        channel,
        lawful_basis: LawfulBasis::Consent,
        source: "web form".into(),
    }
}

/// A contact who consented on every channel.
pub fn reachable() -> Vec<Event> {
    let mut events = vec![created()];
    events.extend(Channel::ALL.map(granted));
    events
}

pub fn with(mut history: Vec<Event>, more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    history.extend(more);
    history
}

pub fn subject(channel: Channel) -> Option<String> {
    channel
        .has_subject()
        .then(|| "Viewing on Friday".to_owned())
}

pub fn send_with(n: u128, channel: Channel, policy: SendPolicy) -> Action {
    Action::SendMessage {
        message_id: id(n),
        conversation_id: conversation(),
        channel,
        subject: subject(channel),
        body: "The flat is free to view on Friday.".into(),
        property: Some(id(900)),
        deal: None,
        policy,
    }
}

pub fn send(n: u128, channel: Channel) -> Action {
    send_with(n, channel, SendPolicy::default())
}

pub fn queued(n: u128, channel: Channel, at: DateTime<Utc>) -> Event {
    Event::MessageQueued {
        message_id: id(n),
        conversation_id: conversation(),
        channel,
        subject: subject(channel),
        body: "The flat is free to view on Friday.".into(),
        property: Some(id(900)),
        deal: None,
        at,
    }
}

pub fn refused(
    n: u128,
    channel: Channel,
    reasons: Vec<deedlog_communications_domain::RefusalReason>,
    at: DateTime<Utc>,
) -> Event {
    Event::MessageRefused {
        message_id: id(n),
        conversation_id: conversation(),
        channel,
        reasons,
        at,
    }
}

pub fn reply(n: u128, at: DateTime<Utc>) -> Event {
    Event::ReplyReceived {
        message_id: id(n),
        in_reply_to: None,
        conversation_id: conversation(),
        channel: Channel::Email,
        body: "Friday works for me.".into(),
        provider_event_id: format!("reply-{n}"),
        at,
    }
}

/// Message 1's email reported delivered at noon under `provider_event_id`.
pub fn delivered(provider_event_id: &str) -> Event {
    Event::MessageDelivered {
        message_id: id(1),
        channel: Channel::Email,
        provider_event_id: provider_event_id.into(),
        at: noon(),
    }
}

/// Message 1's email reported opened at noon under `provider_event_id`.
pub fn opened(provider_event_id: &str) -> Event {
    Event::MessageOpened {
        message_id: id(1),
        channel: Channel::Email,
        provider_event_id: provider_event_id.into(),
        at: noon(),
    }
}

pub fn bounced(n: u128, channel: Channel, hard: bool) -> Event {
    Event::MessageBounced {
        message_id: id(n),
        channel,
        hard,
        detail: "550 mailbox unavailable".into(),
        provider_event_id: format!("bounce-{n}"),
        at: noon(),
    }
}

pub fn state(events: &[Event]) -> State {
    replay::<Communications>(events)
}
