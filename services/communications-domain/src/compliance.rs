//! A contact's compliance profile: what the contact agreed to, asked for
//! and what the providers reported, per channel.

use crate::model::{Channel, LawfulBasis};
use serde::Serialize;
use std::collections::BTreeMap;

/// The last word on consent for one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Consent {
    Granted {
        lawful_basis: LawfulBasis,
        source: String,
    },
    Withdrawn {
        source: String,
    },
}

/// Consent and deliverability of one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelProfile {
    /// None until consent was first granted or withdrawn.
    pub consent: Option<Consent>,
    /// Set by a hard bounce; cleared when the contact's address for the channel changes.
    pub hard_bounced: bool,
}

impl ChannelProfile {
    /// Whether consent is granted and not withdrawn.
    pub fn consented(&self) -> bool {
        matches!(self.consent, Some(Consent::Granted { .. }))
    }
}

/// The never-touched profile that a channel without a map entry has.
static UNTOUCHED: ChannelProfile = ChannelProfile {
    consent: None,
    hard_bounced: false,
};

/// The compliance profile of a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compliance {
    /// Only channels something happened on have an entry; see [`Compliance::profile`].
    pub channels: BTreeMap<Channel, ChannelProfile>,
    /// On the do-not-call list, which covers calls and sms.
    pub do_not_call: bool,
    /// Unsubscribed from email.
    pub unsubscribed: bool,
}

impl Compliance {
    /// The profile of `channel`, untouched if nothing happened on it yet.
    pub fn profile(&self, channel: Channel) -> &ChannelProfile {
        self.channels.get(&channel).unwrap_or(&UNTOUCHED)
    }

    pub(crate) fn profile_mut(&mut self, channel: Channel) -> &mut ChannelProfile {
        self.channels.entry(channel).or_default()
    }
}
