//! What happened to a contact and the messages to and from them.

use crate::model::{Channel, LawfulBasis, PostalAddress};
use crate::refusal::RefusalReason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    ContactCreated {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<PostalAddress>,
    },
    /// The contact's details as they are now, in full.
    ContactUpdated {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<PostalAddress>,
    },
    /// A new address made the channel deliverable again.
    HardBounceCleared {
        channel: Channel,
    },
    ConsentGranted {
        channel: Channel,
        lawful_basis: LawfulBasis,
        source: String,
    },
    ConsentWithdrawn {
        channel: Channel,
        source: String,
    },
    DoNotCallSet {},
    DoNotCallCleared {},
    Unsubscribed {
        source: String,
    },
    /// A new email consent (an explicit opt-in) lifted the unsubscription.
    UnsubscribeCleared {},
    MessageQueued {
        message_id: Uuid,
        conversation_id: Uuid,
        channel: Channel,
        subject: Option<String>,
        body: String,
        property: Option<Uuid>,
        deal: Option<Uuid>,
        at: DateTime<Utc>,
    },
    /// Compliance refused the message; every reason that applied is listed.
    MessageRefused {
        message_id: Uuid,
        conversation_id: Uuid,
        channel: Channel,
        reasons: Vec<RefusalReason>,
        at: DateTime<Utc>,
    },
    MessageDelivered {
        message_id: Uuid,
        channel: Channel,
        provider_event_id: String,
        at: DateTime<Utc>,
    },
    MessageOpened {
        message_id: Uuid,
        channel: Channel,
        provider_event_id: String,
        at: DateTime<Utc>,
    },
    /// A hard bounce blocks the channel until the contact's address changes.
    MessageBounced {
        message_id: Uuid,
        channel: Channel,
        hard: bool,
        detail: String,
        provider_event_id: String,
        at: DateTime<Utc>,
    },
    /// The contact wrote or called back; the cadence pauses.
    ReplyReceived {
        message_id: Uuid,
        in_reply_to: Option<Uuid>,
        conversation_id: Uuid,
        channel: Channel,
        body: String,
        provider_event_id: String,
        at: DateTime<Utc>,
    },
    CadenceResumed {},
    /// The contact was forgotten (right to erasure): appending this destroys
    /// the contact's data key, so their details and message texts read as
    /// erased everywhere (ADR 0035). The subject is the contact's stream.
    ContactForgotten {},
}

deedlog_kernel::event_types!(Event {
    ContactCreated,
    ContactUpdated,
    HardBounceCleared,
    ConsentGranted,
    ConsentWithdrawn,
    DoNotCallSet,
    DoNotCallCleared,
    Unsubscribed,
    UnsubscribeCleared,
    MessageQueued,
    MessageRefused,
    MessageDelivered,
    MessageOpened,
    MessageBounced,
    ReplyReceived,
    CadenceResumed,
    ContactForgotten,
});
