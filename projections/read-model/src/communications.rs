//! `rm_communications`: contacts, their compliance per channel, the
//! suppression list, messages and conversations.
//!
//! `contacts` and `messages` hold personal data; the API decides who may
//! see it.

use crate::error::Error;
use crate::int64::Int64;
use crate::list::{position_key, Listing, Order};
use crate::page::{Connection, Page};
use crate::row::{row, Query};
use crate::where_clause::{Bind, WhereClause};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// A row of `rm_communications.contacts`.
    #[derive(Eq)]
    pub struct ContactRow as "ContactRecord" in "rm_communications"."contacts" {
        pub contact_id: Uuid,
        pub name: String,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub street: Option<String>,
        pub postal_code: Option<String>,
        pub city: Option<String>,
        pub country: Option<String>,
        /// The blind index of `email`: its keyed hash in hex, which a search
        /// by email address matches (ADR 0036); null once forgotten.
        #[cfg_attr(feature = "graphql", graphql(skip))]
        pub email_index: Option<String>,
        /// The blind index of `phone`, likewise.
        #[cfg_attr(feature = "graphql", graphql(skip))]
        pub phone_index: Option<String>,
        pub do_not_call: bool,
        pub unsubscribed: bool,
        pub hard_bounced_channels: Vec<String>,
        pub paused_after_reply: bool,
        pub paused_since: Option<DateTime<Utc>>,
        pub messages_out: i64,
        pub messages_refused: i64,
        pub messages_in: i64,
        pub last_message_at: Option<DateTime<Utc>>,
        pub version: Int64,
        pub last_position: Int64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_communications.compliance`: one contact on one channel.
    #[derive(Eq)]
    pub struct ComplianceRow as "ChannelCompliance" in "rm_communications"."compliance" {
        pub contact_id: Uuid,
        pub channel: String,
        pub consent: String,
        pub lawful_basis: Option<String>,
        pub consent_source: Option<String>,
        pub consent_changed_at: Option<DateTime<Utc>>,
        pub hard_bounced: bool,
        pub reachable: bool,
        pub suppressed: bool,
        pub suppression_reasons: Vec<String>,
        pub blocked_by: Vec<String>,
        pub sendable: bool,
        pub last_position: Int64,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_communications.suppressions`.
    #[derive(Eq)]
    pub struct SuppressionRow as "Suppression" in "rm_communications"."suppressions" {
        pub contact_id: Uuid,
        pub channel: String,
        pub reason: String,
        pub since: DateTime<Utc>,
        pub position: Int64,
        pub source: Option<String>,
        pub message_id: Option<Uuid>,
    }
}

row! {
    /// A row of `rm_communications.messages`.
    pub struct MessageRow as "MessageRecord" in "rm_communications"."messages" {
        pub contact_id: Uuid,
        pub message_id: Uuid,
        pub conversation_id: Uuid,
        pub direction: String,
        pub channel: String,
        pub status: String,
        pub subject: Option<String>,
        pub body: Option<String>,
        pub property_id: Option<Uuid>,
        pub deal_id: Option<Uuid>,
        pub in_reply_to: Option<Uuid>,
        #[cfg_attr(feature = "graphql", graphql(skip))]
        pub refusal_reasons: Option<serde_json::Value>,
        pub refusal_codes: Vec<String>,
        pub message_at: DateTime<Utc>,
        pub actor: String,
        pub delivered_at: Option<DateTime<Utc>>,
        pub opened_at: Option<DateTime<Utc>>,
        pub bounced_at: Option<DateTime<Utc>>,
        pub bounce_hard: Option<bool>,
        pub bounce_detail: Option<String>,
        pub replied_at: Option<DateTime<Utc>>,
        pub provider_event_id: Option<String>,
        pub position: Int64,
        pub last_position: Int64,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_communications.conversations`.
    #[derive(Eq)]
    pub struct ConversationRow as "ConversationRecord" in "rm_communications"."conversations" {
        pub contact_id: Uuid,
        pub conversation_id: Uuid,
        pub channels: Vec<String>,
        pub property_id: Option<Uuid>,
        pub deal_id: Option<Uuid>,
        pub started_at: DateTime<Utc>,
        pub last_message_at: Option<DateTime<Utc>>,
        pub last_direction: Option<String>,
        pub last_outbound_at: Option<DateTime<Utc>>,
        pub last_inbound_at: Option<DateTime<Utc>>,
        pub last_refused_at: Option<DateTime<Utc>>,
        pub messages_out: i64,
        pub messages_refused: i64,
        pub messages_in: i64,
        pub status: String,
        pub paused_since: Option<DateTime<Utc>>,
        pub last_position: Int64,
        pub updated_at: DateTime<Utc>,
    }
}

/// One contact, if the tenant has it.
pub async fn get(conn: &mut PgConnection, contact_id: Uuid) -> Result<Option<ContactRow>, Error> {
    Query::rows("WHERE contact_id = $1")
        .bind(contact_id)
        .optional(conn, "read a contact")
        .await
}

/// What a contact search matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContactSearch {
    /// Every contact.
    #[default]
    All,
    /// Contacts whose name contains this text, in any letter case.
    Name(String),
    /// The contact with this blind index of its email address (ADR 0036).
    Email(String),
    /// The contact with this blind index of its phone number.
    Phone(String),
}

/// Which contacts the directory shows; every field set narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    /// The search term, read.
    pub search: ContactSearch,
    /// Contacts who granted consent on this channel (`email`, `sms`,
    /// `call`, `letter`).
    pub channel_consent: Option<String>,
    /// Contacts on (true) or off (false) the suppression list, on any channel.
    pub suppressed: Option<bool>,
    /// Contacts who are (true) or are not (false) the buyer of an open deal.
    pub has_open_deal: Option<bool>,
    /// The contacts of an agent: buyers of the agent's deals and owners of
    /// the agent's properties.
    pub agent_id: Option<Uuid>,
}

/// The channels a contact can be reached on.
pub const CHANNELS: [&str; 4] = ["email", "sms", "call", "letter"];

/// A page of the tenant's contacts that `filter` keeps, by name (in any
/// letter case), then id. The cursor is the contact's id, so that no
/// personal data travels in it.
pub async fn contacts(
    conn: &mut PgConnection,
    filter: &ContactFilter,
    page: &Page,
) -> Result<Connection<ContactRow>, Error> {
    contact_listing(filter)?
        .page(
            conn,
            page,
            |clause, text| {
                let id = text.parse::<Uuid>().map_err(|_| page.malformed())?;
                // A cursor's contact that has since gone (or was never this
                // tenant's) compares as null: no rows follow it.
                Ok(format!(
                    "SELECT lower(c.name), c.contact_id FROM rm_communications.contacts c \
                     WHERE c.contact_id = {}",
                    clause.placeholder(Bind::Id(id))
                ))
            },
            |r: &ContactRow| r.contact_id.to_string(),
            "search contacts",
        )
        .await
}

/// How many contacts `filter` keeps.
pub async fn count_contacts(conn: &mut PgConnection, filter: &ContactFilter) -> Result<i64, Error> {
    contact_listing(filter)?.count(conn, "count contacts").await
}

fn contact_listing(filter: &ContactFilter) -> Result<Listing, Error> {
    let mut filters = WhereClause::default();
    match &filter.search {
        ContactSearch::All => {}
        ContactSearch::Name(text) => {
            filters.add(
                "strpos(lower(name), lower({})) > 0",
                Bind::Text(text.clone()),
            );
        }
        ContactSearch::Email(hash) => filters.add("email_index = {}", Bind::Text(hash.clone())),
        ContactSearch::Phone(hash) => filters.add("phone_index = {}", Bind::Text(hash.clone())),
    }
    if let Some(channel) = &filter.channel_consent {
        if !CHANNELS.contains(&channel.as_str()) {
            return Err(Error::bad_input(
                "channel_consent",
                format!("{channel:?} is not one of {}", CHANNELS.join(", ")),
            ));
        }
        filters.add(
            "EXISTS (SELECT 1 FROM rm_communications.compliance k \
             WHERE k.contact_id = contacts.contact_id AND k.channel = {} AND k.consent = 'granted')",
            Bind::Text(channel.clone()),
        );
    }
    if let Some(suppressed) = filter.suppressed {
        filters.add(
            "EXISTS (SELECT 1 FROM rm_communications.suppressions s \
             WHERE s.contact_id = contacts.contact_id) = {}",
            Bind::Bool(suppressed),
        );
    }
    if let Some(open) = filter.has_open_deal {
        filters.add(
            "EXISTS (SELECT 1 FROM rm_deals.deals d \
             WHERE d.buyer_contact_id = contacts.contact_id AND d.is_open) = {}",
            Bind::Bool(open),
        );
    }
    if let Some(agent) = filter.agent_id {
        let agent = filters.placeholder(Bind::Id(agent));
        filters.condition(format!(
            "(EXISTS (SELECT 1 FROM rm_deals.deals d \
              WHERE d.buyer_contact_id = contacts.contact_id AND d.agent_id = {agent}) \
              OR EXISTS (SELECT 1 FROM rm_properties.properties p \
              WHERE p.owner_contact_id = contacts.contact_id AND p.agent_id = {agent}))"
        ));
    }
    Ok(Listing::of::<ContactRow>(
        filters,
        Order::asc("name", &["lower(name)", "contact_id"], &[]),
    ))
}

/// A contact's compliance on each channel, in the order email, sms, call,
/// letter (empty for an unknown contact).
pub async fn compliance(
    conn: &mut PgConnection,
    contact_id: Uuid,
) -> Result<Vec<ComplianceRow>, Error> {
    Query::rows(
        "WHERE contact_id = $1 \
         ORDER BY array_position(ARRAY['email', 'sms', 'call', 'letter'], channel)",
    )
    .bind(contact_id)
    .all(conn, "read a contact's compliance")
    .await
}

/// A page of the suppression list, oldest first. The cursor is
/// `<position>:<channel>:<reason>`: one event starts at most one reason per
/// channel, so it names one row.
pub async fn suppressions(
    conn: &mut PgConnection,
    page: &Page,
) -> Result<Connection<SuppressionRow>, Error> {
    suppression_listing()
        .page(
            conn,
            page,
            |clause, cursor| {
                let mut parts = cursor.splitn(3, ':');
                let (Some(position), Some(channel), Some(reason)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(page.malformed());
                };
                let position = position.parse::<i64>().map_err(|_| page.malformed())?;
                Ok(format!(
                    "{}, {}, {}",
                    clause.placeholder(Bind::Int(position)),
                    clause.placeholder(Bind::Text(channel.to_owned())),
                    clause.placeholder(Bind::Text(reason.to_owned()))
                ))
            },
            |r: &SuppressionRow| format!("{}:{}:{}", r.position, r.channel, r.reason),
            "list suppressions",
        )
        .await
}

/// How long the suppression list is.
pub async fn count_suppressions(conn: &mut PgConnection) -> Result<i64, Error> {
    suppression_listing()
        .count(conn, "count suppressions")
        .await
}

fn suppression_listing() -> Listing {
    Listing::of::<SuppressionRow>(
        WhereClause::default(),
        Order::asc("position", &["position", "channel", "reason"], &[]),
    )
}

/// A page of a contact's messages, newest first (by log position, which
/// names each message: one event records one message).
pub async fn messages(
    conn: &mut PgConnection,
    contact_id: Uuid,
    page: &Page,
) -> Result<Connection<MessageRow>, Error> {
    message_listing(contact_id)
        .page(
            conn,
            page,
            |clause, _| position_key(page, clause),
            |r: &MessageRow| r.position.to_string(),
            "list a contact's messages",
        )
        .await
}

/// How many messages a contact has.
pub async fn count_messages(conn: &mut PgConnection, contact_id: Uuid) -> Result<i64, Error> {
    message_listing(contact_id)
        .count(conn, "count a contact's messages")
        .await
}

fn message_listing(contact_id: Uuid) -> Listing {
    let mut filters = WhereClause::default();
    filters.add("contact_id = {}", Bind::Id(contact_id));
    Listing::of::<MessageRow>(filters, Order::desc("position", &["position"], &[]))
}

/// A contact's conversations, the most recently active first.
pub async fn conversations(
    conn: &mut PgConnection,
    contact_id: Uuid,
) -> Result<Vec<ConversationRow>, Error> {
    Query::rows("WHERE contact_id = $1 ORDER BY last_position DESC, conversation_id")
        .bind(contact_id)
        .all(conn, "list a contact's conversations")
        .await
}

/// The contacts with these ids (what a page's loader reads in one statement).
pub async fn get_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<ContactRow>, Error> {
    Query::rows("WHERE contact_id = ANY($1)")
        .bind(ids)
        .all(conn, "read contacts by id")
        .await
}

/// The latest message of each of these contacts, in one statement.
pub async fn last_messages(
    conn: &mut PgConnection,
    contacts: &[Uuid],
) -> Result<Vec<MessageRow>, Error> {
    // One index probe per contact (messages_by_contact), not a sort of all
    // their messages.
    let sql = format!(
        "SELECT m.* FROM unnest($1::uuid[]) AS c(id) \
         CROSS JOIN LATERAL ({} WHERE contact_id = c.id ORDER BY message_at DESC, message_id DESC \
                             LIMIT 1) m",
        crate::row::select::<MessageRow>()
    );
    sqlx::query_as(&sql)
        .bind(contacts)
        .fetch_all(conn)
        .await
        .map_err(Error::db("read the last messages of contacts"))
}
