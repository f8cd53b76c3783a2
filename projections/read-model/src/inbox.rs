//! The inbox: conversations across contacts, those awaiting a reply
//! first, filtered by channel, agent, contact, property or deal.

use crate::communications::{ConversationRow, CHANNELS};
use crate::error::Error;
use crate::list::{Key, KeyKind, Listing, Order};
use crate::page::{Connection, Page};
use crate::where_clause::{Bind, WhereClause};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// The order of the inbox. Ties are broken by contact and conversation id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationOrder {
    /// Conversations awaiting a reply first, then the most recently active.
    #[default]
    UnrepliedFirst,
    /// The most recently active first.
    LastMessageDesc,
}

/// Whether the contact wrote last (a conversation without messages has
/// not).
const UNREPLIED: &str = "COALESCE(last_direction = 'inbound', false)";
/// When a conversation was last active: its last message, or its start.
const ACTIVE: &str = "COALESCE(last_message_at, started_at)";

impl ConversationOrder {
    fn order(self) -> Order {
        match self {
            Self::UnrepliedFirst => Order::desc(
                "unreplied_first",
                &[UNREPLIED, ACTIVE, "contact_id", "conversation_id"],
                &[KeyKind::Flag, KeyKind::Time, KeyKind::Id, KeyKind::Id],
            ),
            Self::LastMessageDesc => Order::desc(
                "last_message_desc",
                &[ACTIVE, "contact_id", "conversation_id"],
                &[KeyKind::Time, KeyKind::Id, KeyKind::Id],
            ),
        }
    }

    fn key(self, row: &ConversationRow) -> Vec<Key> {
        let mut key = Vec::with_capacity(4);
        if self == Self::UnrepliedFirst {
            key.push(Key::Flag(is_unreplied(row)));
        }
        key.push(Key::Time(row.last_message_at.unwrap_or(row.started_at)));
        key.push(Key::Id(row.contact_id));
        key.push(Key::Id(row.conversation_id));
        key
    }
}

/// Whether the contact wrote last, so the conversation awaits a reply.
pub fn is_unreplied(row: &ConversationRow) -> bool {
    row.last_direction.as_deref() == Some("inbound")
}

/// Which conversations the inbox shows; every field set narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationFilter {
    /// Awaiting a reply (the contact wrote last), or not.
    pub unreplied: Option<bool>,
    /// Used this channel.
    pub channel: Option<String>,
    /// About a deal or a property of this agent.
    pub agent_id: Option<Uuid>,
    /// With this contact.
    pub contact_id: Option<Uuid>,
    /// About this property.
    pub property_id: Option<Uuid>,
    /// About this deal.
    pub deal_id: Option<Uuid>,
    /// The order.
    pub order: ConversationOrder,
}

/// A page of the inbox.
pub async fn conversations(
    conn: &mut PgConnection,
    filter: &ConversationFilter,
    page: &Page,
) -> Result<Connection<ConversationRow>, Error> {
    let order = filter.order;
    listing(filter)?
        .page_by_key(conn, page, |row| order.key(row), "list conversations")
        .await
}

/// How many conversations the filter keeps.
pub async fn count(conn: &mut PgConnection, filter: &ConversationFilter) -> Result<i64, Error> {
    listing(filter)?.count(conn, "count conversations").await
}

fn listing(filter: &ConversationFilter) -> Result<Listing, Error> {
    let mut filters = WhereClause::default();
    if let Some(unreplied) = filter.unreplied {
        filters.add(&format!("{UNREPLIED} = {{}}"), Bind::Bool(unreplied));
    }
    if let Some(channel) = &filter.channel {
        if !CHANNELS.contains(&channel.as_str()) {
            return Err(Error::bad_input(
                "channel",
                format!("{channel:?} is not one of {}", CHANNELS.join(", ")),
            ));
        }
        filters.add("channels @> ARRAY[{}::text]", Bind::Text(channel.clone()));
    }
    if let Some(agent) = filter.agent_id {
        let agent = filters.placeholder(Bind::Id(agent));
        filters.condition(format!(
            "(EXISTS (SELECT 1 FROM rm_deals.deals d \
              WHERE d.deal_id = conversations.deal_id AND d.agent_id = {agent}) \
              OR EXISTS (SELECT 1 FROM rm_properties.properties p \
              WHERE p.property_id = conversations.property_id AND p.agent_id = {agent}))"
        ));
    }
    if let Some(contact) = filter.contact_id {
        filters.add("contact_id = {}", Bind::Id(contact));
    }
    if let Some(property) = filter.property_id {
        filters.add("property_id = {}", Bind::Id(property));
    }
    if let Some(deal) = filter.deal_id {
        filters.add("deal_id = {}", Bind::Id(deal));
    }
    Ok(Listing::of::<ConversationRow>(
        filters,
        filter.order.order(),
    ))
}
