//! What can be asked of a contact. Time, message ids and the tenant's
//! sending policy come with the command; who may ask, and whether a
//! provider's webhook is genuinely signed, is checked by the service.

use crate::model::{Channel, LawfulBasis, PostalAddress};
use crate::policy::SendPolicy;
use uuid::Uuid;

/// An action and when it is decided; for provider reports, `at` is when the
/// webhook arrived.
pub type Command = deedlog_kernel::Timed<Action>;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<PostalAddress>,
    },
    /// Replaces the contact's details. A new email, phone or postal address
    /// is deliverable again, so it clears that channel's hard bounce.
    Update {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<PostalAddress>,
    },
    /// For email it is also a new opt-in that lifts an earlier unsubscription.
    GrantConsent {
        channel: Channel,
        lawful_basis: LawfulBasis,
        /// Where the consent came from, e.g. `web form`.
        source: String,
    },
    WithdrawConsent {
        channel: Channel,
        source: String,
    },
    /// Puts the contact on (true) or takes them off (false) the do-not-call
    /// list, which covers calls and sms.
    SetDoNotCall(bool),
    /// Unsubscribes the contact from email, from a provider webhook or by hand.
    Unsubscribe {
        source: String,
    },
    /// Queues a message for the provider, or records why compliance refuses it.
    SendMessage {
        message_id: Uuid,
        conversation_id: Uuid,
        channel: Channel,
        /// Email and letter only.
        subject: Option<String>,
        /// For a call, the call note (may be empty).
        body: String,
        property: Option<Uuid>,
        deal: Option<Uuid>,
        /// The tenant's policy as of now, looked up by the service.
        policy: SendPolicy,
    },
    /// A provider's report on a sent message.
    RecordDelivery {
        message_id: Uuid,
        status: DeliveryStatus,
        /// The provider's id of this report; a retried webhook repeats it.
        provider_event_id: String,
    },
    /// A message from the contact, which pauses the cadence.
    RecordReply {
        /// The id deedlog gives the inbound message.
        message_id: Uuid,
        in_reply_to: Option<Uuid>,
        conversation_id: Uuid,
        channel: Channel,
        body: String,
        provider_event_id: String,
    },
    /// Lets messages go out again after a reply paused the cadence.
    ResumeCadence,
    /// Forgets the contact (right to erasure): their details and message
    /// texts read as erased from now on, and the contact takes no more commands.
    Forget,
}

/// What a provider reports about a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Delivered,
    Opened,
    /// A hard bounce means the address is undeliverable, which blocks the channel.
    Bounced {
        hard: bool,
        detail: String,
    },
}
