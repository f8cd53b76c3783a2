//! The communications context's rules, pure: no I/O, no clock, no randomness.
//!
//! One aggregate, the contact (stream type `contact`): their details, their
//! compliance profile per channel (email, sms, call, letter) and every
//! message to and from them. Messages are decided on the contact's stream
//! because consent, cadence and "paused after a reply" are per contact.
//!
//! Sending is queued for the provider or refused by compliance, and a
//! refusal is an event listing every reason: no consent for the channel,
//! do-not-call (call, sms), unsubscribed (email), a hard bounce, a reply
//! that paused the cadence, the cadence limit (by default 3 messages per 7
//! days) and quiet hours (no calls or sms 21:00–08:00 in the tenant's time
//! zone). Provider reports (delivered, opened, bounced) and replies become
//! events; a retried webhook changes nothing. The tenant's policy, time and
//! message ids come inside the command.

pub mod command;
pub mod compliance;
pub mod decide;
pub mod error;
pub mod event;
pub mod message;
pub mod model;
pub mod personal;
pub mod policy;
pub mod refusal;
pub mod state;

pub use command::{Action, Command, DeliveryStatus};
pub use compliance::{ChannelProfile, Compliance, Consent};
pub use error::Error;
pub use event::Event;
pub use model::{Channel, LawfulBasis, PostalAddress};
pub use policy::SendPolicy;
pub use refusal::{refusal_reasons, standing_reasons, RefusalReason};
pub use state::{Contact, Direction, Message, MessageStatus, State};

deedlog_kernel::decider! {
    /// The communications decider.
    pub struct Communications: CONTACT, State, Command => Event, Error;
    decide = decide::decide, evolve = state::evolve
}
