//! The notifications read model (schema in
//! `migrations/projections/notifications.sql`): each user's notifications
//! and how far they have read them.
//!
//! Who is notified of what (the addressee is always an agent):
//! - `deal_assigned` / `property_assigned`: a deal opened for them, a
//!   property created with them as its agent, or a deal or property
//!   reassigned to them; `deal_reassigned_away` /
//!   `property_reassigned_away`: the previous agent of a reassignment;
//! - `reply_received`: a reply on a conversation about their deal (or, for a
//!   conversation about a property only, their property);
//! - `deal_stage_changed`: any stage move of their deal, winning, losing
//!   and reopening included;
//! - `asking_price_changed`: a new asking price of their property.
//!
//! Nobody is notified of their own action: a notification whose addressee
//! is the event's actor (`user:<id>` in its metadata) is not written.
//!
//! To address them it keeps its own state: the agent and stage of each
//! deal, the agent of each property and the deal and property of each
//! conversation (from its queued messages). Read marks come from the
//! `notification_inbox` streams (`NotificationsRead`), so they survive a
//! rebuild. A batch loads the state it touches with one statement per
//! table, folds its events in memory and writes each touched row back once.
//! Rows hold no personal data: ids, kinds, stages, amounts and positions.

mod fold;

use super::decode::decode;
use crate::projection::ApplyError;
use crate::rows::{self, keyed};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::stream_type;
use deedlog_read_model::notifications::{
    ConversationLinkRow, DealAgentRow, PropertyAgentRow, ReadMarkRow,
};
use fold::{Decoded, State};
use sqlx::PgConnection;
use std::collections::BTreeSet;
use uuid::Uuid;

// Ids, stages and amounts only: it reads no personal field, so a rebuild
// opens none.
projection!(Notifications, "notifications", apply, opens []);

async fn apply(conn: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let decoded = decode_batch(events)?;
    if decoded.is_empty() {
        return Ok(());
    }
    let mut state = load(conn, &decoded).await?;
    let mut notifications = Vec::new();
    for (recorded, event) in &decoded {
        fold::apply_one(&mut state, &mut notifications, recorded, event)?;
    }
    rows::insert(conn, "notifications", &notifications).await?;
    write(conn, state).await
}

/// The batch's events this projection reads, in position order. Of the
/// contact streams only queued messages and replies matter, and only their
/// ids: their texts stay sealed (the projection opens no personal field,
/// ADR 0035), so they are not decoded into the whole event.
fn decode_batch(events: &[RecordedEvent]) -> Result<Vec<(&RecordedEvent, Decoded)>, ApplyError> {
    let mut decoded = Vec::new();
    for recorded in events {
        let event = match recorded.stream_type.as_str() {
            stream_type::DEAL => Decoded::Deal(decode(recorded)?),
            stream_type::PROPERTY => Decoded::Property(decode(recorded)?),
            stream_type::CONTACT => {
                let reply = match recorded.event_type.as_str() {
                    "MessageQueued" => false,
                    "ReplyReceived" => true,
                    _ => continue,
                };
                let message: fold::Message = serde_json::from_str(&recorded.payload)
                    .map_err(|e| ApplyError::event(recorded, e))?;
                Decoded::Message { reply, message }
            }
            stream_type::NOTIFICATION_INBOX => Decoded::Inbox(decode(recorded)?),
            _ => continue,
        };
        decoded.push((recorded, event));
    }
    Ok(decoded)
}

/// Loads the state rows the batch may touch: the conversations its
/// messages name first, then the deals and properties of its own events
/// and of those conversations.
async fn load(
    conn: &mut PgConnection,
    decoded: &[(&RecordedEvent, Decoded)],
) -> Result<State, ApplyError> {
    let mut conversations = BTreeSet::new();
    let mut deals = BTreeSet::new();
    let mut properties = BTreeSet::new();
    let mut users = BTreeSet::new();
    for (recorded, event) in decoded {
        let id = recorded.stream_id.as_uuid();
        match event {
            Decoded::Deal(_) => {
                deals.insert(id);
            }
            Decoded::Property(_) => {
                properties.insert(id);
            }
            Decoded::Message { message, .. } => {
                conversations.insert(message.conversation_id);
                deals.extend(message.deal);
                properties.extend(message.property);
            }
            Decoded::Inbox(deedlog_tenancy_domain::inbox::Event::NotificationsRead {
                user,
                ..
            }) => {
                users.insert(user.as_uuid());
            }
        }
    }
    let conversations = ids(conversations);
    let links: Vec<ConversationLinkRow> = rows::load(
        conn,
        "conversation_links",
        "conversation_id",
        &conversations,
    )
    .await?;
    for link in &links {
        deals.extend(link.deal_id);
        properties.extend(link.property_id);
    }
    let deals = ids(deals);
    let properties = ids(properties);
    let users = ids(users);
    let deal_rows: Vec<DealAgentRow> = rows::load(conn, "deal_agents", "deal_id", &deals).await?;
    let property_rows: Vec<PropertyAgentRow> =
        rows::load(conn, "property_agents", "property_id", &properties).await?;
    let marks: Vec<ReadMarkRow> = rows::load(conn, "read_marks", "user_id", &users).await?;
    Ok(State {
        deals: keyed(deal_rows, |r: &DealAgentRow| r.deal_id),
        properties: keyed(property_rows, |r: &PropertyAgentRow| r.property_id),
        conversations: keyed(links, |r: &ConversationLinkRow| r.conversation_id),
        marks: keyed(marks, |r: &ReadMarkRow| r.user_id),
        touched: fold::Touched::default(),
    })
}

fn ids(set: BTreeSet<Uuid>) -> Vec<Uuid> {
    set.into_iter().collect()
}

/// Writes back every state row the batch changed.
async fn write(conn: &mut PgConnection, mut state: State) -> Result<(), ApplyError> {
    let touched = std::mem::take(&mut state.touched);
    let deals = ids(touched.deals);
    let written: Vec<_> = deals
        .iter()
        .filter_map(|id| state.deals.remove(id))
        .collect();
    rows::replace(conn, "deal_agents", "deal_id", &deals, &written).await?;
    let properties = ids(touched.properties);
    let written: Vec<_> = properties
        .iter()
        .filter_map(|id| state.properties.remove(id))
        .collect();
    rows::replace(
        conn,
        "property_agents",
        "property_id",
        &properties,
        &written,
    )
    .await?;
    let conversations = ids(touched.conversations);
    let written: Vec<_> = conversations
        .iter()
        .filter_map(|id| state.conversations.remove(id))
        .collect();
    rows::replace(
        conn,
        "conversation_links",
        "conversation_id",
        &conversations,
        &written,
    )
    .await?;
    let users = ids(touched.users);
    let written: Vec<_> = users
        .iter()
        .filter_map(|id| state.marks.remove(id))
        .collect();
    rows::replace(conn, "read_marks", "user_id", &users, &written).await
}
