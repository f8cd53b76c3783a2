//! The export of everything deedlog holds about one contact, as one JSON
//! document (GDPR right of access, issue 19): their details, consents,
//! compliance flags, messages and replies with their texts, conversations,
//! the deals where they are the buyer, the properties they own, and the
//! contact stream's events as stored.
//!
//! The document is built here once and served by both the GraphQL
//! gateway (`contactExport`) and the operator command (`deedlog privacy
//! export`). Its format is `deedlog.contact-export/1`, every key
//! documented in `docs/privacy.md` ("Export format (right of access)").
//!
//! The events' sealed personal fields (ADR 0035) are opened with the key
//! service, as the audit history's are ([`audit::open`]): the person sees
//! their data as the log holds it, or the erased marker once forgotten,
//! never a sealed envelope.
//!
//! Every part is read on the connection of one [`TenantScope`], so
//! row-level security limits it to the caller's tenant: another tenant's
//! contact is not found, exactly like one that never existed. The parts are
//! read one statement after another in that read-only transaction (read
//! committed): a write landing between two statements can show in a later
//! part and not in an earlier one; [`ContactExport::events`] is the log
//! itself and always the fullest account.

use crate::audit::{self, AuditFilter, EventRow};
use crate::communications::{
    self, ComplianceRow, ContactRow, ConversationRow, MessageRow, SuppressionRow,
};
use crate::deals::DealRow;
use crate::error::Error;
use crate::page::{Page, MAX_FIRST};
use crate::properties::PropertyRow;
use crate::row::Query;
use crate::scope::TenantScope;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

/// The value of the document's `format` key; a change of the document's
/// shape that could break a reader gets a new number.
pub const FORMAT: &str = "deedlog.contact-export/1";

/// Everything deedlog holds about one contact (serialize it for the
/// document). Rows keep their read model's column names; the `tenant_id`
/// of every row is the document's own `tenant_id` and is left out of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactExport {
    /// Always [`FORMAT`].
    pub format: &'static str,
    /// When the document was built.
    pub exported_at: DateTime<Utc>,
    /// The tenant (the data controller's account) that holds the contact.
    pub tenant_id: Uuid,
    /// The contact exported.
    pub contact_id: Uuid,
    /// Their details.
    pub contact: ContactDetails,
    /// Their consent on each channel (email, sms, call, letter).
    pub consents: Vec<Consent>,
    /// What limits contacting them.
    pub compliance: Compliance,
    /// Every message to and from them, oldest first, with subject and body.
    #[serde(serialize_with = "rows")]
    pub messages: Vec<MessageRow>,
    /// Their conversations, the most recently active first.
    #[serde(serialize_with = "rows")]
    pub conversations: Vec<ConversationRow>,
    /// The deals where they are the buyer, oldest first.
    #[serde(serialize_with = "rows")]
    pub deals: Vec<DealRow>,
    /// The properties recorded as theirs (`owner_contact_id`), oldest first.
    #[serde(serialize_with = "rows")]
    pub properties: Vec<PropertyRow>,
    /// The contact stream's events, oldest first, payloads as stored with
    /// their sealed fields opened.
    pub events: Vec<EventRow>,
}

/// A contact's details as the tenant holds them now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactDetails {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// None when no part of an address is recorded.
    pub address: Option<Address>,
    /// When the contact was created.
    pub created_at: DateTime<Utc>,
    /// When anything about the contact last changed.
    pub updated_at: DateTime<Utc>,
    /// The contact stream's version (its number of events).
    pub version: i64,
}

/// A postal address; each part as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// Consent on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    /// `email`, `sms`, `call` or `letter`.
    pub channel: String,
    /// `granted`, `withdrawn`, or `none` if never granted or withdrawn.
    pub consent: String,
    /// The legal ground of the current grant (`consent`, `contract`,
    /// `legitimate_interest`, `legal_obligation`); none unless granted.
    pub lawful_basis: Option<String>,
    /// Where it came from, e.g. `web form`.
    pub source: Option<String>,
    /// When it last changed.
    pub changed_at: Option<DateTime<Utc>>,
}

/// What limits contacting the contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compliance {
    /// They asked not to be called.
    pub do_not_call: bool,
    /// They unsubscribed from all messages.
    pub unsubscribed: bool,
    /// The channels where a message bounced hard.
    pub hard_bounced_channels: Vec<String>,
    /// Sending is paused because they replied.
    pub paused_after_reply: bool,
    /// Since when it is paused.
    pub paused_since: Option<DateTime<Utc>>,
    /// Per channel: whether a message may be sent, and what blocks it.
    pub channels: Vec<ChannelCompliance>,
    /// The suppressions in force, oldest first.
    pub suppressions: Vec<Suppression>,
}

/// Whether one channel may be used, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelCompliance {
    pub channel: String,
    pub hard_bounced: bool,
    /// An address (email, phone, postal) for the channel is recorded.
    pub reachable: bool,
    pub suppressed: bool,
    pub suppression_reasons: Vec<String>,
    /// Everything that blocks sending on the channel now.
    pub blocked_by: Vec<String>,
    /// A message may be sent now.
    pub sendable: bool,
}

/// One suppression of one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub channel: String,
    /// `do_not_call`, `unsubscribed` or `hard_bounced`.
    pub reason: String,
    pub since: DateTime<Utc>,
    /// Where the reason came from (e.g. the provider), if recorded.
    pub source: Option<String>,
    /// The message that caused it (a bounce), if any.
    pub message_id: Option<Uuid>,
    /// The log position of the event that started it.
    pub position: i64,
}

impl ContactExport {
    /// The document as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        // Every part is plain data (strings, numbers, ids, instants, JSON
        // values), which serde_json always serializes.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Everything the scope's tenant holds about `contact_id`, as of
/// `exported_at`; `None` when the tenant has no such contact (including
/// another tenant's contact, which row-level security hides). `keyring`
/// opens the events' sealed fields once the scope is finished: the key
/// service takes a connection of its own pool, and one held by the scope
/// meanwhile could starve a pool the two share.
pub async fn contact(
    mut scope: TenantScope,
    contact_id: Uuid,
    exported_at: DateTime<Utc>,
    keyring: &deedlog_privacy::Keyring,
) -> Result<Option<ContactExport>, Error> {
    let tenant_id = scope.tenant();
    let conn = scope.conn();
    let Some(row) = communications::get(conn, contact_id).await? else {
        return Ok(None);
    };
    let channels = communications::compliance(conn, contact_id).await?;
    let suppressions: Vec<SuppressionRow> =
        Query::rows("WHERE contact_id = $1 ORDER BY position, channel, reason")
            .bind(contact_id)
            .all(conn, "read a contact's suppressions")
            .await?;
    let messages: Vec<MessageRow> = Query::rows("WHERE contact_id = $1 ORDER BY position")
        .bind(contact_id)
        .all(conn, "read a contact's messages")
        .await?;
    let conversations = communications::conversations(conn, contact_id).await?;
    let deals: Vec<DealRow> =
        Query::rows("WHERE buyer_contact_id = $1 ORDER BY created_at, deal_id")
            .bind(contact_id)
            .all(conn, "read a buyer's deals")
            .await?;
    let properties: Vec<PropertyRow> =
        Query::rows("WHERE owner_contact_id = $1 ORDER BY created_at, property_id")
            .bind(contact_id)
            .all(conn, "read an owner's properties")
            .await?;
    let mut events = stream_events(conn, contact_id).await?;
    scope.finish().await?;
    audit::open(events.iter_mut(), tenant_id, keyring).await?;

    let consents = channels.iter().map(consent).collect();
    let compliance = Compliance {
        do_not_call: row.do_not_call,
        unsubscribed: row.unsubscribed,
        hard_bounced_channels: row.hard_bounced_channels.clone(),
        paused_after_reply: row.paused_after_reply,
        paused_since: row.paused_since,
        channels: channels.into_iter().map(channel).collect(),
        suppressions: suppressions.into_iter().map(suppression).collect(),
    };
    Ok(Some(ContactExport {
        format: FORMAT,
        exported_at,
        tenant_id,
        contact_id,
        contact: details(row),
        consents,
        compliance,
        messages,
        conversations,
        deals,
        properties,
        events,
    }))
}

/// Every event of one stream, oldest first, a page of the audit history
/// at a time.
async fn stream_events(
    conn: &mut sqlx::PgConnection,
    stream: Uuid,
) -> Result<Vec<EventRow>, Error> {
    let filter = AuditFilter {
        record: Some(stream),
        ..AuditFilter::default()
    };
    let mut events = Vec::new();
    let mut page = Page::first(MAX_FIRST);
    loop {
        let connection = audit::events(conn, &filter, &page).await?;
        let next = connection.page_info.clone();
        events.extend(connection.edges.into_iter().map(|e| e.node));
        match next.end_cursor {
            Some(cursor) if next.has_next_page => page = Page::after(MAX_FIRST, cursor),
            _ => return Ok(events),
        }
    }
}

fn details(row: ContactRow) -> ContactDetails {
    let address = Address {
        street: row.street,
        postal_code: row.postal_code,
        city: row.city,
        country: row.country,
    };
    let any = address.street.is_some()
        || address.postal_code.is_some()
        || address.city.is_some()
        || address.country.is_some();
    ContactDetails {
        name: row.name,
        email: row.email,
        phone: row.phone,
        address: any.then_some(address),
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version.0,
    }
}

fn consent(row: &ComplianceRow) -> Consent {
    Consent {
        channel: row.channel.clone(),
        consent: row.consent.clone(),
        lawful_basis: row.lawful_basis.clone(),
        source: row.consent_source.clone(),
        changed_at: row.consent_changed_at,
    }
}

fn channel(row: ComplianceRow) -> ChannelCompliance {
    ChannelCompliance {
        channel: row.channel,
        hard_bounced: row.hard_bounced,
        reachable: row.reachable,
        suppressed: row.suppressed,
        suppression_reasons: row.suppression_reasons,
        blocked_by: row.blocked_by,
        sendable: row.sendable,
    }
}

fn suppression(row: SuppressionRow) -> Suppression {
    Suppression {
        channel: row.channel,
        reason: row.reason,
        since: row.since,
        source: row.source,
        message_id: row.message_id,
        position: row.position.0,
    }
}

/// Serializes read-model rows as objects of their columns without
/// `tenant_id` (the document's own).
fn rows<R: Serialize, S: Serializer>(rows: &[R], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error as _, SerializeSeq};
    let mut seq = serializer.serialize_seq(Some(rows.len()))?;
    for row in rows {
        let mut value = serde_json::to_value(row).map_err(S::Error::custom)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("tenant_id");
        }
        seq.serialize_element(&value)?;
    }
    seq.end()
}
