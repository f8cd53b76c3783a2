//! Message and conversation rows: new ones, provider reports, and the
//! stored names of statuses.

use super::*;

/// A message row with what every message has; the caller fills in the rest.
pub(super) fn new_message(
    recorded: &RecordedEvent,
    message_id: Uuid,
    conversation_id: Uuid,
    channel: Channel,
    at: DateTime<Utc>,
) -> MessageRow {
    MessageRow {
        tenant_id: recorded.tenant_id.as_uuid(),
        contact_id: recorded.stream_id.as_uuid(),
        message_id,
        conversation_id,
        direction: String::new(),
        channel: channel.as_str().to_owned(),
        status: String::new(),
        subject: None,
        body: None,
        property_id: None,
        deal_id: None,
        in_reply_to: None,
        refusal_reasons: None,
        refusal_codes: Vec::new(),
        message_at: at,
        actor: recorded.actor.clone(),
        delivered_at: None,
        opened_at: None,
        bounced_at: None,
        bounce_hard: None,
        bounce_detail: None,
        replied_at: None,
        provider_event_id: None,
        position: big(recorded.position),
        last_position: big(recorded.position),
        updated_at: recorded.occurred_at,
    }
}

pub(super) fn add_message(
    batch: &mut Batch,
    recorded: &RecordedEvent,
    message: MessageRow,
) -> Result<(), ApplyError> {
    let key = (message.contact_id, message.message_id);
    if batch.messages.contains_key(&key) {
        return Err(ApplyError::event(
            recorded,
            "the message id is already used on this contact",
        ));
    }
    batch.messages.insert(key, message);
    Ok(())
}

/// The row of a message a provider reported on, with the status the domain
/// gives it after the report (a status only moves forward; a bounce overrides).
pub(super) fn report<'a>(
    batch: &'a mut Batch,
    recorded: &RecordedEvent,
    contact: &Contact,
    message_id: Uuid,
) -> Result<&'a mut MessageRow, ApplyError> {
    let row = batch
        .messages
        .get_mut(&(recorded.stream_id.as_uuid(), message_id))
        .ok_or_else(|| ApplyError::event(recorded, "no row for the message reported on"))?;
    if let Some(message) = contact.messages.get(&message_id) {
        let (status, hard) = status_name(message.status);
        row.status = status.to_owned();
        if let Some(hard) = hard {
            row.bounce_hard = Some(hard);
        }
    }
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
    Ok(row)
}

/// The conversation's row, started by this message if it is the first.
pub(super) fn conversation<'a>(
    batch: &'a mut Batch,
    recorded: &RecordedEvent,
    conversation_id: Uuid,
    channel: Channel,
    at: DateTime<Utc>,
) -> &'a mut ConversationRow {
    let contact_id = recorded.stream_id.as_uuid();
    let row = batch
        .conversations
        .entry((contact_id, conversation_id))
        .or_insert_with(|| ConversationRow {
            tenant_id: recorded.tenant_id.as_uuid(),
            contact_id,
            conversation_id,
            channels: Vec::new(),
            property_id: None,
            deal_id: None,
            started_at: at,
            last_message_at: None,
            last_direction: None,
            last_outbound_at: None,
            last_inbound_at: None,
            last_refused_at: None,
            messages_out: 0,
            messages_refused: 0,
            messages_in: 0,
            status: "open".into(),
            paused_since: None,
            last_position: Int64(0),
            updated_at: recorded.occurred_at,
        });
    let name = channel.as_str();
    if !row.channels.iter().any(|c| c == name) {
        row.channels.push(name.to_owned());
        row.channels.sort_by_key(|c| channel_rank(c));
    }
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
    row
}

/// A channel's place in the order email, sms, call, letter.
pub(super) fn channel_rank(name: &str) -> usize {
    Channel::ALL
        .iter()
        .position(|c| c.as_str() == name)
        .unwrap_or(usize::MAX)
}

pub(super) fn status_of(paused_since: Option<DateTime<Utc>>) -> &'static str {
    if paused_since.is_some() {
        "paused"
    } else {
        "open"
    }
}

/// The stored status of a message, and for a bounce whether it was hard.
pub(super) fn status_name(status: MessageStatus) -> (&'static str, Option<bool>) {
    match status {
        MessageStatus::Refused => ("refused", None),
        MessageStatus::Queued => ("queued", None),
        MessageStatus::Delivered => ("delivered", None),
        MessageStatus::Opened => ("opened", None),
        MessageStatus::Bounced { hard } => ("bounced", Some(hard)),
        MessageStatus::Received => ("received", None),
    }
}

/// The domain's view of a stored message.
pub(super) fn domain_message(row: &MessageRow) -> Result<Message, String> {
    let status = match row.status.as_str() {
        "refused" => MessageStatus::Refused,
        "queued" => MessageStatus::Queued,
        "delivered" => MessageStatus::Delivered,
        "opened" => MessageStatus::Opened,
        "bounced" => MessageStatus::Bounced {
            hard: row.bounce_hard.unwrap_or(false),
        },
        "received" => MessageStatus::Received,
        other => return Err(format!("unknown message status {other}")),
    };
    Ok(Message {
        conversation_id: row.conversation_id,
        channel: parse(&row.channel)?,
        direction: if row.direction == "inbound" {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
        status,
        at: row.message_at,
    })
}

/// A serde enum from its stored snake_case name.
pub(super) fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|e| format!("stored value {name:?}: {e}"))
}
