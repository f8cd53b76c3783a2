//! The communications read model: contacts, their compliance status per
//! channel, the suppression list, every message to and from them and the
//! conversations the messages are grouped in (schema in
//! `migrations/projections/communications.sql`).
//!
//! A contact's stream holds its details, its compliance profile and its
//! messages (ADR 0009). The compliance columns are not re-derived here: the
//! batch rebuilds the domain's own [`Contact`] state from the rows it loads,
//! folds the events with the domain's `evolve`, and asks the domain's
//! [`standing_reasons`] what blocks each channel, so the read model says
//! exactly what the next send would be refused for (apart from the cadence
//! limit and quiet hours, which depend on the moment of the send).
//!
//! Conversations are the messages of one contact grouped by the
//! `conversation_id` the events carry (by default a message's own id). A
//! reply pauses the contact's cadence, and with it every conversation of
//! that contact, because every send to them is refused until it resumes.

use super::decode::{big, events_of, stream_ids};
use crate::projection::{ApplyError, Projection, Table};
use crate::rows;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deedlog_communications_domain::state::evolve;
use deedlog_communications_domain::{
    standing_reasons, Channel, ChannelProfile, Compliance, Consent, Contact, Direction, Event,
    LawfulBasis, Message, MessageStatus, RefusalReason, State,
};
use deedlog_eventstore::RecordedEvent;
use deedlog_read_model::communications::{
    ComplianceRow, ContactRow, ConversationRow, MessageRow, SuppressionRow,
};
use deedlog_read_model::Int64;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

use deedlog_kernel::stream_type::CONTACT as STREAM_TYPE;

/// The refusal reasons that put a channel on the suppression list; the
/// others (no consent, a paused cadence) block a send without suppressing
/// the address.
const SUPPRESSION_CODES: [&str; 3] = ["do_not_call", "unsubscribed", "hard_bounced"];

#[derive(Debug, Clone, Copy)]
pub struct Communications;

/// A contact's pause as the conversations of the contact show it.
#[derive(Debug, Serialize)]
struct PauseRow {
    contact_id: Uuid,
    status: &'static str,
    paused_since: Option<DateTime<Utc>>,
}

const TABLES: &[Table] = &[
    Table {
        name: "contacts",
        key: &["contact_id"],
    },
    Table {
        name: "compliance",
        key: &["contact_id", "channel"],
    },
    Table {
        name: "suppressions",
        key: &["contact_id", "channel", "reason"],
    },
    Table {
        name: "messages",
        key: &["contact_id", "message_id"],
    },
    Table {
        name: "conversations",
        key: &["contact_id", "conversation_id"],
    },
];

/// (contact, message or conversation): messages and conversations are
/// identified within their contact, so two contacts may use the same id.
type Key = (Uuid, Uuid);

#[async_trait]
impl Projection for Communications {
    fn name(&self) -> &'static str {
        "communications"
    }

    fn ddl(&self) -> &'static str {
        include_str!("../../../../migrations/projections/communications.sql")
    }

    fn tables(&self) -> &'static [Table] {
        TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let decoded = events_of::<Event>(events, STREAM_TYPE)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let ids = stream_ids(&decoded);
        let (message_keys, conversation_keys) = referenced(&decoded);

        let contacts = rows::load::<ContactRow>(conn, "contacts", "contact_id", &ids).await?;
        let compliance =
            rows::load::<ComplianceRow>(conn, "compliance", "contact_id", &ids).await?;
        let suppressions =
            rows::load::<SuppressionRow>(conn, "suppressions", "contact_id", &ids).await?;
        let mut batch = Batch {
            messages: load_pairs::<MessageRow>(conn, "messages", "message_id", &message_keys)
                .await?
                .into_iter()
                .map(|m| ((m.contact_id, m.message_id), m))
                .collect(),
            conversations: load_pairs::<ConversationRow>(
                conn,
                "conversations",
                "conversation_id",
                &conversation_keys,
            )
            .await?
            .into_iter()
            .map(|c| ((c.contact_id, c.conversation_id), c))
            .collect(),
        };

        let mut works = Working::load(contacts, compliance, suppressions, &batch.messages)
            .map_err(|reason| ApplyError::event(decoded[0].0, reason))?;
        for (recorded, event) in &decoded {
            apply_one(&mut works, &mut batch, recorded, event)?;
        }
        let Batch {
            messages,
            mut conversations,
        } = batch;

        // Conversations show their contact's pause as it is after the batch.
        let mut pauses = Vec::new();
        for work in works.values() {
            let paused_since = work.row.paused_since;
            if work.existed && paused_since != work.paused_at_load {
                pauses.push(PauseRow {
                    contact_id: work.row.contact_id,
                    status: status_of(paused_since),
                    paused_since,
                });
            }
        }
        for conversation in conversations.values_mut() {
            if let Some(work) = works.get(&conversation.contact_id) {
                conversation.status = status_of(work.row.paused_since).to_owned();
                conversation.paused_since = work.row.paused_since;
            }
        }

        let mut contact_rows = Vec::with_capacity(works.len());
        let mut compliance_rows = Vec::with_capacity(works.len() * Channel::ALL.len());
        let mut suppression_rows = Vec::new();
        for work in works.into_values() {
            contact_rows.push(work.row);
            compliance_rows.extend(work.compliance.into_values());
            suppression_rows.extend(work.suppressions.into_values());
        }
        rows::replace(conn, "contacts", "contact_id", &ids, &contact_rows).await?;
        rows::replace(conn, "compliance", "contact_id", &ids, &compliance_rows).await?;
        rows::replace(conn, "suppressions", "contact_id", &ids, &suppression_rows).await?;
        let message_keys: Vec<Key> = messages.keys().copied().collect();
        let message_rows: Vec<MessageRow> = messages.into_values().collect();
        delete_pairs(conn, "messages", "message_id", &message_keys).await?;
        rows::insert(conn, "messages", &message_rows).await?;
        let conversation_keys: Vec<Key> = conversations.keys().copied().collect();
        let conversation_rows: Vec<ConversationRow> = conversations.into_values().collect();
        delete_pairs(conn, "conversations", "conversation_id", &conversation_keys).await?;
        rows::insert(conn, "conversations", &conversation_rows).await?;
        set_pauses(conn, &pauses).await
    }
}

/// The messages and conversations the batch's events name, per contact.
fn referenced(decoded: &[(&RecordedEvent, Event)]) -> (Vec<Key>, Vec<Key>) {
    let mut messages = BTreeSet::new();
    let mut conversations = BTreeSet::new();
    for (recorded, event) in decoded {
        let contact = recorded.stream_id.as_uuid();
        match event {
            Event::MessageQueued {
                message_id,
                conversation_id,
                ..
            }
            | Event::MessageRefused {
                message_id,
                conversation_id,
                ..
            } => {
                messages.insert((contact, *message_id));
                conversations.insert((contact, *conversation_id));
            }
            Event::ReplyReceived {
                message_id,
                in_reply_to,
                conversation_id,
                ..
            } => {
                messages.insert((contact, *message_id));
                if let Some(original) = in_reply_to {
                    messages.insert((contact, *original));
                }
                conversations.insert((contact, *conversation_id));
            }
            Event::MessageDelivered { message_id, .. }
            | Event::MessageOpened { message_id, .. }
            | Event::MessageBounced { message_id, .. } => {
                messages.insert((contact, *message_id));
            }
            _ => {}
        }
    }
    (
        messages.into_iter().collect(),
        conversations.into_iter().collect(),
    )
}

/// A contact being folded: its rows and the domain's state rebuilt from them.
struct Working {
    row: ContactRow,
    state: State,
    compliance: BTreeMap<Channel, ComplianceRow>,
    suppressions: BTreeMap<(Channel, &'static str), SuppressionRow>,
    /// Whether the contact had rows before the batch.
    existed: bool,
    paused_at_load: Option<DateTime<Utc>>,
}

/// The message and conversation rows of the batch, loaded or new.
struct Batch {
    messages: HashMap<Key, MessageRow>,
    conversations: HashMap<Key, ConversationRow>,
}

impl Working {
    /// Rebuilds each loaded contact, with the domain state its rows stand for.
    fn load(
        contacts: Vec<ContactRow>,
        compliance: Vec<ComplianceRow>,
        suppressions: Vec<SuppressionRow>,
        messages: &HashMap<Key, MessageRow>,
    ) -> Result<HashMap<Uuid, Working>, String> {
        let mut works: HashMap<Uuid, Working> = HashMap::with_capacity(contacts.len());
        for row in contacts {
            let contact = Contact {
                name: row.name.clone(),
                email: row.email.clone(),
                phone: row.phone.clone(),
                address: address_of(&row),
                compliance: Compliance {
                    channels: BTreeMap::new(),
                    do_not_call: row.do_not_call,
                    unsubscribed: row.unsubscribed,
                },
                paused_since: row.paused_since,
                messages: BTreeMap::new(),
                provider_events: BTreeSet::new(),
            };
            works.insert(
                row.contact_id,
                Working {
                    paused_at_load: row.paused_since,
                    row,
                    state: State(Some(contact)),
                    compliance: BTreeMap::new(),
                    suppressions: BTreeMap::new(),
                    existed: true,
                },
            );
        }
        for row in compliance {
            let channel = parse::<Channel>(&row.channel)?;
            let Some(work) = works.get_mut(&row.contact_id) else {
                continue;
            };
            let consent = match row.consent.as_str() {
                "granted" => Some(Consent::Granted {
                    lawful_basis: parse::<LawfulBasis>(row.lawful_basis.as_deref().unwrap_or(""))?,
                    source: row.consent_source.clone().unwrap_or_default(),
                }),
                "withdrawn" => Some(Consent::Withdrawn {
                    source: row.consent_source.clone().unwrap_or_default(),
                }),
                _ => None,
            };
            if let Some(contact) = work.state.0.as_mut() {
                contact.compliance.channels.insert(
                    channel,
                    ChannelProfile {
                        consent,
                        hard_bounced: row.hard_bounced,
                    },
                );
            }
            work.compliance.insert(channel, row);
        }
        for row in suppressions {
            let channel = parse::<Channel>(&row.channel)?;
            let reason = SUPPRESSION_CODES
                .into_iter()
                .find(|code| *code == row.reason)
                .ok_or_else(|| format!("unknown suppression reason {}", row.reason))?;
            if let Some(work) = works.get_mut(&row.contact_id) {
                work.suppressions.insert((channel, reason), row);
            }
        }
        for ((contact_id, message_id), row) in messages {
            let Some(contact) = works
                .get_mut(contact_id)
                .and_then(|work| work.state.0.as_mut())
            else {
                continue;
            };
            contact.messages.insert(*message_id, domain_message(row)?);
        }
        Ok(works)
    }

    /// A contact created by `event`, with a compliance row per channel.
    fn created(recorded: &RecordedEvent, event: &Event) -> Working {
        let state = evolve(State(None), event);
        let mut row = ContactRow {
            contact_id: recorded.stream_id.as_uuid(),
            tenant_id: recorded.tenant_id.as_uuid(),
            name: String::new(),
            email: None,
            phone: None,
            street: None,
            postal_code: None,
            city: None,
            country: None,
            do_not_call: false,
            unsubscribed: false,
            hard_bounced_channels: Vec::new(),
            paused_after_reply: false,
            paused_since: None,
            messages_out: 0,
            messages_refused: 0,
            messages_in: 0,
            last_message_at: None,
            version: Int64(0),
            last_position: Int64(0),
            created_at: recorded.occurred_at,
            updated_at: recorded.occurred_at,
        };
        if let Some(contact) = &state.0 {
            set_details(&mut row, contact);
        }
        let mut work = Working {
            row,
            state,
            compliance: BTreeMap::new(),
            suppressions: BTreeMap::new(),
            existed: false,
            paused_at_load: None,
        };
        work.sync(recorded, event);
        work
    }

    /// Brings the rows in line with the domain state after `event`.
    fn sync(&mut self, recorded: &RecordedEvent, event: &Event) {
        let Some(contact) = self.state.0.as_ref() else {
            return;
        };
        let row = &mut self.row;
        row.do_not_call = contact.compliance.do_not_call;
        row.unsubscribed = contact.compliance.unsubscribed;
        row.paused_since = contact.paused_since;
        row.paused_after_reply = contact.paused_since.is_some();
        row.hard_bounced_channels = Channel::ALL
            .into_iter()
            .filter(|c| contact.compliance.profile(*c).hard_bounced)
            .map(|c| c.as_str().to_owned())
            .collect();
        row.version = big(recorded.version);
        row.last_position = big(recorded.position);
        row.updated_at = recorded.occurred_at;
        if touches_messages_only(event) {
            return;
        }
        for channel in Channel::ALL {
            let reasons = standing_reasons(contact, channel);
            let fresh = compliance_row(row, contact, channel, &reasons);
            let consent_event = match event {
                Event::ConsentGranted { channel: c, .. }
                | Event::ConsentWithdrawn { channel: c, .. } => *c == channel,
                _ => false,
            };
            match self.compliance.get_mut(&channel) {
                Some(old) => {
                    let mut fresh = ComplianceRow {
                        consent_changed_at: old.consent_changed_at,
                        last_position: old.last_position,
                        updated_at: old.updated_at,
                        ..fresh
                    };
                    if consent_event {
                        fresh.consent_changed_at = Some(recorded.occurred_at);
                    }
                    if fresh != *old {
                        fresh.last_position = big(recorded.position);
                        fresh.updated_at = recorded.occurred_at;
                        *old = fresh;
                    }
                }
                None => {
                    self.compliance.insert(channel, fresh);
                }
            }
            suppress(
                &mut self.suppressions,
                row,
                recorded,
                event,
                channel,
                &reasons,
            );
        }
    }
}

/// Starts the suppressions of `channel` that `reasons` name and lifts the others.
fn suppress(
    suppressions: &mut BTreeMap<(Channel, &'static str), SuppressionRow>,
    row: &ContactRow,
    recorded: &RecordedEvent,
    event: &Event,
    channel: Channel,
    reasons: &[RefusalReason],
) {
    let in_force: Vec<&'static str> = reasons
        .iter()
        .map(RefusalReason::code)
        .filter(|code| SUPPRESSION_CODES.contains(code))
        .collect();
    suppressions.retain(|(c, reason), _| *c != channel || in_force.contains(reason));
    for reason in in_force {
        suppressions
            .entry((channel, reason))
            .or_insert_with(|| SuppressionRow {
                tenant_id: row.tenant_id,
                contact_id: row.contact_id,
                channel: channel.as_str().to_owned(),
                reason: reason.to_owned(),
                since: recorded.occurred_at,
                position: big(recorded.position),
                source: match (reason, event) {
                    ("unsubscribed", Event::Unsubscribed { source }) => Some(source.clone()),
                    _ => None,
                },
                // Not the bounce's detail: providers often quote the address in it.
                message_id: match (reason, event) {
                    ("hard_bounced", Event::MessageBounced { message_id, .. }) => Some(*message_id),
                    _ => None,
                },
            });
    }
}

/// Whether `event` can only change messages, conversations and counts.
fn touches_messages_only(event: &Event) -> bool {
    matches!(
        event,
        Event::MessageQueued { .. }
            | Event::MessageRefused { .. }
            | Event::MessageDelivered { .. }
            | Event::MessageOpened { .. }
    )
}

/// The compliance row of `channel` as the domain state says, stamped with
/// the contact row's position and time.
fn compliance_row(
    row: &ContactRow,
    contact: &Contact,
    channel: Channel,
    reasons: &[RefusalReason],
) -> ComplianceRow {
    let profile = contact.compliance.profile(channel);
    let (consent, lawful_basis, consent_source) = match &profile.consent {
        None => ("none", None, None),
        Some(Consent::Granted {
            lawful_basis,
            source,
        }) => (
            "granted",
            Some(lawful_basis.as_str().to_owned()),
            Some(source.clone()),
        ),
        Some(Consent::Withdrawn { source }) => ("withdrawn", None, Some(source.clone())),
    };
    let blocked_by: Vec<String> = reasons.iter().map(|r| r.code().to_owned()).collect();
    let suppression_reasons: Vec<String> = blocked_by
        .iter()
        .filter(|code| SUPPRESSION_CODES.contains(&code.as_str()))
        .cloned()
        .collect();
    let reachable = contact.can_reach(channel);
    ComplianceRow {
        tenant_id: row.tenant_id,
        contact_id: row.contact_id,
        channel: channel.as_str().to_owned(),
        consent: consent.to_owned(),
        lawful_basis,
        consent_source,
        consent_changed_at: None,
        hard_bounced: profile.hard_bounced,
        reachable,
        suppressed: !suppression_reasons.is_empty(),
        suppression_reasons,
        sendable: reachable && blocked_by.is_empty(),
        blocked_by,
        last_position: row.last_position,
        updated_at: row.updated_at,
    }
}

fn apply_one(
    works: &mut HashMap<Uuid, Working>,
    batch: &mut Batch,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position = big(recorded.position);
    if let Event::ContactCreated { .. } = event {
        match works.get(&id) {
            // Applied before (a replayed dead letter that had gone through).
            Some(work) if work.row.last_position >= position => {}
            Some(_) => {
                return Err(ApplyError::event(recorded, "the contact already has a row"));
            }
            None => {
                works.insert(id, Working::created(recorded, event));
            }
        }
        return Ok(());
    }
    let work = works.get_mut(&id).ok_or_else(|| {
        ApplyError::event(
            recorded,
            "no row for this contact (its creation was not applied)",
        )
    })?;
    if work.row.last_position >= position {
        return Ok(());
    }
    work.state = evolve(std::mem::take(&mut work.state), event);
    let Some(contact) = work.state.0.as_ref() else {
        return Err(ApplyError::event(recorded, "the contact has no state"));
    };
    match event {
        Event::ContactUpdated { .. } => set_details(&mut work.row, contact),
        Event::MessageQueued {
            message_id,
            conversation_id,
            channel,
            subject,
            body,
            property,
            deal,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "outbound".into();
            message.status = "queued".into();
            message.subject = subject.clone();
            message.body = Some(body.clone());
            message.property_id = *property;
            message.deal_id = *deal;
            add_message(batch, recorded, message)?;
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_out += 1;
            conversation.last_message_at = Some(*at);
            conversation.last_direction = Some("outbound".into());
            conversation.last_outbound_at = Some(*at);
            if property.is_some() {
                conversation.property_id = *property;
            }
            if deal.is_some() {
                conversation.deal_id = *deal;
            }
            work.row.messages_out += 1;
            work.row.last_message_at = Some(*at);
        }
        Event::MessageRefused {
            message_id,
            conversation_id,
            channel,
            reasons,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "outbound".into();
            message.status = "refused".into();
            message.refusal_reasons =
                Some(serde_json::to_value(reasons).map_err(|e| ApplyError::event(recorded, e))?);
            message.refusal_codes = reasons.iter().map(|r| r.code().to_owned()).collect();
            add_message(batch, recorded, message)?;
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_refused += 1;
            conversation.last_refused_at = Some(*at);
            work.row.messages_refused += 1;
        }
        Event::MessageDelivered { message_id, at, .. } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.delivered_at.get_or_insert(*at);
        }
        Event::MessageOpened { message_id, at, .. } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.opened_at.get_or_insert(*at);
        }
        Event::MessageBounced {
            message_id,
            hard,
            detail,
            at,
            ..
        } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.bounced_at = Some(*at);
            message.bounce_hard = Some(*hard);
            message.bounce_detail = Some(detail.clone());
        }
        Event::ReplyReceived {
            message_id,
            in_reply_to,
            conversation_id,
            channel,
            body,
            provider_event_id,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "inbound".into();
            message.status = "received".into();
            message.body = Some(body.clone());
            message.in_reply_to = *in_reply_to;
            message.provider_event_id = Some(provider_event_id.clone());
            add_message(batch, recorded, message)?;
            if let Some(original) = in_reply_to.and_then(|m| batch.messages.get_mut(&(id, m))) {
                if original.replied_at.is_none() {
                    original.replied_at = Some(*at);
                    original.last_position = position;
                    original.updated_at = recorded.occurred_at;
                }
            }
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_in += 1;
            conversation.last_message_at = Some(*at);
            conversation.last_direction = Some("inbound".into());
            conversation.last_inbound_at = Some(*at);
            work.row.messages_in += 1;
            work.row.last_message_at = Some(*at);
        }
        Event::ContactCreated { .. }
        | Event::HardBounceCleared { .. }
        | Event::ConsentGranted { .. }
        | Event::ConsentWithdrawn { .. }
        | Event::DoNotCallSet {}
        | Event::DoNotCallCleared {}
        | Event::Unsubscribed { .. }
        | Event::UnsubscribeCleared {}
        | Event::CadenceResumed {} => {}
    }
    work.sync(recorded, event);
    Ok(())
}

fn set_details(row: &mut ContactRow, contact: &Contact) {
    row.name = contact.name.clone();
    row.email = contact.email.clone();
    row.phone = contact.phone.clone();
    let address = contact.address.as_ref();
    row.street = address.map(|a| a.street.clone());
    row.postal_code = address.map(|a| a.postal_code.clone());
    row.city = address.map(|a| a.city.clone());
    row.country = address.map(|a| a.country.clone());
}

fn address_of(row: &ContactRow) -> Option<deedlog_communications_domain::PostalAddress> {
    Some(deedlog_communications_domain::PostalAddress {
        street: row.street.clone()?,
        postal_code: row.postal_code.clone()?,
        city: row.city.clone()?,
        country: row.country.clone()?,
    })
}

/// A message row with what every message has; the caller fills in the rest.
fn new_message(
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

fn add_message(
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
fn report<'a>(
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
fn conversation<'a>(
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
fn channel_rank(name: &str) -> usize {
    Channel::ALL
        .iter()
        .position(|c| c.as_str() == name)
        .unwrap_or(usize::MAX)
}

fn status_of(paused_since: Option<DateTime<Utc>>) -> &'static str {
    if paused_since.is_some() {
        "paused"
    } else {
        "open"
    }
}

/// The stored status of a message, and for a bounce whether it was hard.
fn status_name(status: MessageStatus) -> (&'static str, Option<bool>) {
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
fn domain_message(row: &MessageRow) -> Result<Message, String> {
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
fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|e| format!("stored value {name:?}: {e}"))
}

/// Loads the rows of `table` whose (`contact_id`, `column`) is one of `keys`.
///
/// `table` and `column` are static names written in this module, never input.
async fn load_pairs<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    keys: &[Key],
) -> Result<Vec<T>, ApplyError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (contacts, ids): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let json: Option<sqlx::types::Json<Vec<T>>> = sqlx::query_scalar(&format!(
        "SELECT json_agg(t) FROM {table} t \
         JOIN unnest($1::uuid[], $2::uuid[]) AS k(contact_id, id) \
         ON t.contact_id = k.contact_id AND t.{column} = k.id"
    ))
    .bind(&contacts)
    .bind(&ids)
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db("load read-model rows by contact and id"))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

/// Deletes the rows of `table` whose (`contact_id`, `column`) is one of `keys`.
async fn delete_pairs(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    keys: &[Key],
) -> Result<(), ApplyError> {
    if keys.is_empty() {
        return Ok(());
    }
    let (contacts, ids): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    sqlx::query(&format!(
        "DELETE FROM {table} t USING unnest($1::uuid[], $2::uuid[]) AS k(contact_id, id) \
         WHERE t.contact_id = k.contact_id AND t.{column} = k.id"
    ))
    .bind(&contacts)
    .bind(&ids)
    .execute(conn)
    .await
    .map_err(ApplyError::db("delete read-model rows by contact and id"))?;
    Ok(())
}

/// Shows each contact's pause on every conversation of the contact, those
/// the batch did not touch included.
async fn set_pauses(conn: &mut PgConnection, pauses: &[PauseRow]) -> Result<(), ApplyError> {
    if pauses.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE conversations c SET status = k.status, paused_since = k.paused_since \
         FROM json_to_recordset($1::json) AS k(contact_id uuid, status text, paused_since timestamptz) \
         WHERE c.contact_id = k.contact_id \
           AND (c.status, c.paused_since) IS DISTINCT FROM (k.status, k.paused_since)",
    )
    .bind(sqlx::types::Json(pauses))
    .execute(conn)
    .await
    .map_err(ApplyError::db("show contacts' pauses on their conversations"))?;
    Ok(())
}
