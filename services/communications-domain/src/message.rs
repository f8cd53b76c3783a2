//! The checks on messages going out and on provider reports coming in.

use crate::command::DeliveryStatus;
use crate::error::Error;
use crate::event::Event;
use crate::model::Channel;
use crate::state::Contact;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest body of an outgoing message, in characters.
pub const MAX_BODY_LEN: usize = 10_000;
/// Longest sms body: ten concatenated segments.
pub const MAX_SMS_LEN: usize = 1_600;
pub const MAX_SUBJECT_LEN: usize = 200;
/// Longest reply body kept; longer ones are cut rather than refused, so a
/// reply (which pauses the cadence) is never lost.
pub const MAX_REPLY_LEN: usize = 100_000;
/// Longest bounce detail kept; longer ones are cut for the same reason.
pub const MAX_DETAIL_LEN: usize = 1_000;
const MAX_PROVIDER_EVENT_ID_LEN: usize = 200;

/// Refuses a message id that is already used on this contact.
pub(crate) fn fresh_id(contact: &Contact, message_id: Uuid) -> Result<(), Error> {
    if contact.messages.contains_key(&message_id) {
        return Err(Error::DuplicateMessage { message_id });
    }
    Ok(())
}

/// Checks an outgoing message's subject and body and that the contact can
/// be reached on the channel; returns the trimmed subject.
pub(crate) fn check_outgoing(
    contact: &Contact,
    channel: Channel,
    subject: Option<&str>,
    body: &str,
) -> Result<Option<String>, Error> {
    let subject = match subject {
        None => None,
        Some(_) if !channel.has_subject() => {
            return Err(Error::invalid(
                "subject",
                "only email and letter messages have a subject",
            ))
        }
        Some(subject) => {
            let subject = subject.trim();
            if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_LEN {
                return Err(Error::invalid("subject", "must be 1 to 200 characters"));
            }
            Some(subject.to_owned())
        }
    };
    if channel.requires_body() && body.trim().is_empty() {
        return Err(Error::invalid("body", "must not be empty"));
    }
    let length = body.chars().count();
    if length > MAX_BODY_LEN {
        return Err(Error::invalid("body", "must be at most 10000 characters"));
    }
    if channel == Channel::Sms && length > MAX_SMS_LEN {
        return Err(Error::invalid(
            "body",
            "an sms must be at most 1600 characters",
        ));
    }
    if !contact.can_reach(channel) {
        return Err(Error::NoAddressForChannel { channel });
    }
    Ok(subject)
}

/// Records a provider's report once: the id is checked and trimmed, and a
/// report the contact already has yields no event (providers retry
/// webhooks: a repeat changes nothing). `record` gets the trimmed id.
pub(crate) fn once_per_provider_event(
    contact: &Contact,
    id: &str,
    record: impl FnOnce(String) -> Result<Event, Error>,
) -> Result<Vec<Event>, Error> {
    let id = check_provider_event_id(id)?;
    if contact.provider_events.contains(&id) {
        return Ok(vec![]);
    }
    Ok(vec![record(id)?])
}

/// Trims a provider's report id: 1 to 200 characters.
fn check_provider_event_id(id: &str) -> Result<String, Error> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > MAX_PROVIDER_EVENT_ID_LEN {
        return Err(Error::invalid(
            "provider_event_id",
            "must be 1 to 200 characters",
        ));
    }
    Ok(id.to_owned())
}

/// Refuses a reply that names a message of another conversation or none at all.
pub(crate) fn check_thread(
    contact: &Contact,
    in_reply_to: Uuid,
    conversation_id: Uuid,
) -> Result<(), Error> {
    let original = contact
        .messages
        .get(&in_reply_to)
        .ok_or(Error::UnknownMessage {
            message_id: in_reply_to,
        })?;
    if original.conversation_id != conversation_id {
        return Err(Error::invalid(
            "conversation_id",
            "differs from the conversation of the message replied to",
        ));
    }
    Ok(())
}

/// The event a provider's report on a sent message becomes.
pub(crate) fn delivery_event(
    contact: &Contact,
    message_id: Uuid,
    status: &DeliveryStatus,
    provider_event_id: String,
    at: DateTime<Utc>,
) -> Result<Event, Error> {
    let message = contact
        .messages
        .get(&message_id)
        .ok_or(Error::UnknownMessage { message_id })?;
    if !message.was_sent() {
        return Err(Error::NotSent { message_id });
    }
    let channel = message.channel;
    Ok(match status {
        DeliveryStatus::Delivered => Event::MessageDelivered {
            message_id,
            channel,
            provider_event_id,
            at,
        },
        DeliveryStatus::Opened => Event::MessageOpened {
            message_id,
            channel,
            provider_event_id,
            at,
        },
        DeliveryStatus::Bounced { hard, detail } => Event::MessageBounced {
            message_id,
            channel,
            hard: *hard,
            detail: cut(detail.trim(), MAX_DETAIL_LEN),
            provider_event_id,
            at,
        },
    })
}

/// The first `max` characters of `text`.
pub(crate) fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
