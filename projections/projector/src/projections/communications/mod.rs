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

use super::applied::unapplied;
use super::decode::{big, stream_ids, Decoded};
use crate::projection::ApplyError;
use crate::rows::{self, keyed};
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

mod apply;
mod index;
mod messages;
mod store;
mod working;

use apply::*;
use messages::*;
use store::*;
use working::*;

/// The refusal reasons that put a channel on the suppression list; the
/// others (no consent, a paused cadence) block a send without suppressing
/// the address.
const SUPPRESSION_CODES: [&str; 3] = ["do_not_call", "unsubscribed", "hard_bounced"];

/// (contact, message or conversation): messages and conversations are
/// identified within their contact, so two contacts may use the same id.
type Key = (Uuid, Uuid);

projection!(Communications, "communications", stream CONTACT of Event, apply);

async fn apply(
    conn: &mut PgConnection,
    decoded: &Decoded<'_, Event>,
    keys: crate::projection::Keys<'_>,
) -> Result<(), ApplyError> {
    let ids = stream_ids(decoded);
    let (message_keys, conversation_keys) = referenced(decoded);

    let contacts = rows::load::<ContactRow>(conn, "contacts", "contact_id", &ids).await?;
    let compliance = rows::load::<ComplianceRow>(conn, "compliance", "contact_id", &ids).await?;
    let suppressions =
        rows::load::<SuppressionRow>(conn, "suppressions", "contact_id", &ids).await?;
    let messages = load_pairs(conn, "messages", "message_id", &message_keys).await?;
    let conversations =
        load_pairs(conn, "conversations", "conversation_id", &conversation_keys).await?;
    let mut batch = Batch {
        messages: keyed(messages, |m: &MessageRow| (m.contact_id, m.message_id)),
        conversations: keyed(conversations, |c: &ConversationRow| {
            (c.contact_id, c.conversation_id)
        }),
        forgotten: BTreeSet::new(),
    };

    let mut works = Working::load(contacts, compliance, suppressions, &batch.messages)
        .map_err(|reason| ApplyError::event(decoded[0].0, reason))?;
    for (recorded, event) in decoded {
        apply_one(&mut works, &mut batch, recorded, event)?;
    }
    index::refresh(keys, decoded, &mut works)?;
    let Batch {
        messages,
        mut conversations,
        forgotten,
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
    set_pauses(conn, &pauses).await?;
    let forgotten: Vec<Uuid> = forgotten.into_iter().collect();
    erase_messages(conn, &forgotten).await
}

/// The messages and conversations the batch's events name, per contact.
fn referenced(decoded: &Decoded<'_, Event>) -> (Vec<Key>, Vec<Key>) {
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
