//! `rm_communications`: contacts, their compliance per channel, the
//! suppression list, messages and conversations.
//!
//! `contacts` and `messages` hold personal data; the API decides who may
//! see it.

use crate::error::Error;
use crate::int64::Int64;
use crate::page::{malformed_cursor, Connection, Page};
use crate::row::{row, Query};
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
    pub struct ConversationRow as "Conversation" in "rm_communications"."conversations" {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactSearch {
    /// Every contact.
    All,
    /// Contacts whose name contains this text, in any letter case.
    Name(String),
    /// The contact with this blind index of its email address (ADR 0036).
    Email(String),
    /// The contact with this blind index of its phone number.
    Phone(String),
}

/// A page of the tenant's contacts that `search` matches, by name (in any
/// letter case), then id. The cursor is the contact's id.
pub async fn contacts(
    conn: &mut PgConnection,
    search: &ContactSearch,
    page: &Page,
) -> Result<Connection<ContactRow>, Error> {
    let limit = page.limit()?;
    let after = page
        .after
        .as_deref()
        .map(|cursor| cursor.parse::<Uuid>().map_err(|_| malformed_cursor(cursor)))
        .transpose()?;
    let (matching, term, index) = match search {
        ContactSearch::All => ("true", None, None),
        ContactSearch::Name(text) => (
            "strpos(lower(name), lower($1)) > 0",
            Some(text.clone()),
            None,
        ),
        ContactSearch::Email(hash) => ("email_index = $2", None, Some(hash.clone())),
        ContactSearch::Phone(hash) => ("phone_index = $2", None, Some(hash.clone())),
    };
    // Parameters a search does not use are bound all the same (typed, so
    // PostgreSQL accepts them). A cursor's contact that has since gone (or
    // was never this tenant's) compares as null: no rows follow it.
    Query::rows(&format!(
        "WHERE {matching} \
         AND ($3::uuid IS NULL OR (lower(name), contact_id) > \
              (SELECT lower(c.name), c.contact_id FROM rm_communications.contacts c \
               WHERE c.contact_id = $3)) \
         ORDER BY lower(name), contact_id LIMIT $4"
    ))
    .bind(term)
    .bind(index)
    .bind(after)
    .page(conn, limit, "search contacts", |r: &ContactRow| {
        r.contact_id.to_string()
    })
    .await
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
    let limit = page.limit()?;
    let after = match page.after.as_deref() {
        None => None,
        Some(cursor) => {
            let mut parts = cursor.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(position), Some(channel), Some(reason)) => Some((
                    position
                        .parse::<i64>()
                        .map_err(|_| malformed_cursor(cursor))?,
                    channel.to_owned(),
                    reason.to_owned(),
                )),
                _ => return Err(malformed_cursor(cursor)),
            }
        }
    };
    let (position, channel, reason) = after.unwrap_or((-1, String::new(), String::new()));
    Query::rows(
        "WHERE (position, channel, reason) > ($1, $2, $3) \
         ORDER BY position, channel, reason LIMIT $4",
    )
    .bind(position)
    .bind(channel)
    .bind(reason)
    .page(conn, limit, "list suppressions", |r: &SuppressionRow| {
        format!("{}:{}:{}", r.position, r.channel, r.reason)
    })
    .await
}

/// A page of a contact's messages, newest first (by log position, which
/// names each message: one event records one message).
pub async fn messages(
    conn: &mut PgConnection,
    contact_id: Uuid,
    page: &Page,
) -> Result<Connection<MessageRow>, Error> {
    let limit = page.limit()?;
    let before = page.after_position()?.unwrap_or(i64::MAX);
    Query::rows("WHERE contact_id = $1 AND position < $2 ORDER BY position DESC LIMIT $3")
        .bind(contact_id)
        .bind(before)
        .page(
            conn,
            limit,
            "list a contact's messages",
            |r: &MessageRow| r.position.to_string(),
        )
        .await
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
