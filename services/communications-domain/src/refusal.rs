//! Why compliance refuses a message, and the check that finds every reason.
//!
//! All reasons that apply are collected rather than the first one, so an
//! auditor reading a refusal sees the whole picture.

use crate::model::Channel;
use crate::policy::SendPolicy;
use crate::state::Contact;
use chrono::{DateTime, NaiveTime, Utc};
use deedlog_kernel::number::reaches;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One reason a message was refused, stored as e.g. `{"code": "no_consent", "channel": "sms"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RefusalReason {
    /// Consent for the channel was never granted or was withdrawn.
    NoConsent { channel: Channel },
    /// The contact is on the do-not-call list (calls and sms).
    DoNotCall,
    /// The contact unsubscribed from email.
    Unsubscribed,
    /// An earlier message on the channel bounced hard.
    HardBounced { channel: Channel },
    /// The contact replied; nothing goes out until the cadence is resumed.
    PausedAfterReply { since: DateTime<Utc> },
    /// The contact already got `limit` messages in the last `window_days` days.
    CadenceLimit { limit: u32, window_days: u32 },
    /// Calls and sms wait for the end of quiet hours in the tenant's time zone.
    QuietHours {
        local_time: NaiveTime,
        time_zone: String,
    },
}

impl RefusalReason {
    /// The stable code, as stored and as clients may match on it.
    pub fn code(&self) -> &'static str {
        match self {
            RefusalReason::NoConsent { .. } => "no_consent",
            RefusalReason::DoNotCall => "do_not_call",
            RefusalReason::Unsubscribed => "unsubscribed",
            RefusalReason::HardBounced { .. } => "hard_bounced",
            RefusalReason::PausedAfterReply { .. } => "paused_after_reply",
            RefusalReason::CadenceLimit { .. } => "cadence_limit",
            RefusalReason::QuietHours { .. } => "quiet_hours",
        }
    }
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefusalReason::NoConsent { channel } => write!(f, "no consent for {channel}"),
            RefusalReason::DoNotCall => f.write_str("the contact is on the do-not-call list"),
            RefusalReason::Unsubscribed => f.write_str("the contact unsubscribed from email"),
            RefusalReason::HardBounced { channel } => write!(
                f,
                "an earlier {channel} to the contact's {} bounced hard",
                channel.address_kind()
            ),
            RefusalReason::PausedAfterReply { since } => write!(
                f,
                "the contact replied on {} and the cadence is paused",
                since.format("%Y-%m-%d %H:%M UTC")
            ),
            RefusalReason::CadenceLimit { limit, window_days } => write!(
                f,
                "the contact already got {limit} messages in the last {window_days} days"
            ),
            RefusalReason::QuietHours {
                local_time,
                time_zone,
            } => write!(
                f,
                "it is {} in {time_zone}, within the quiet hours for calls and sms",
                local_time.format("%H:%M")
            ),
        }
    }
}

/// The reasons that hold whatever the time and policy: consent, suppression,
/// bounces and a paused cadence. A read model shows these per channel.
pub fn standing_reasons(contact: &Contact, channel: Channel) -> Vec<RefusalReason> {
    let compliance = &contact.compliance;
    let profile = compliance.profile(channel);
    let mut reasons = Vec::new();
    if !profile.consented() {
        reasons.push(RefusalReason::NoConsent { channel });
    }
    if compliance.do_not_call && channel.covered_by_do_not_call() {
        reasons.push(RefusalReason::DoNotCall);
    }
    if compliance.unsubscribed && channel == Channel::Email {
        reasons.push(RefusalReason::Unsubscribed);
    }
    if profile.hard_bounced {
        reasons.push(RefusalReason::HardBounced { channel });
    }
    if let Some(since) = contact.paused_since {
        reasons.push(RefusalReason::PausedAfterReply { since });
    }
    reasons
}

/// Every reason to refuse a message on `channel` at `at` under `policy`, in
/// a fixed order; empty means the message may be queued.
pub fn refusal_reasons(
    contact: &Contact,
    channel: Channel,
    at: DateTime<Utc>,
    policy: &SendPolicy,
) -> Vec<RefusalReason> {
    let mut reasons = standing_reasons(contact, channel);
    let sent = contact.sent_between(policy.window_start(at), at);
    if reaches(sent, policy.cadence_limit) {
        reasons.push(RefusalReason::CadenceLimit {
            limit: policy.cadence_limit,
            window_days: policy.cadence_window_days,
        });
    }
    if channel.has_quiet_hours() {
        if let Some(local_time) = policy.quiet_local_time(at) {
            reasons.push(RefusalReason::QuietHours {
                local_time,
                time_zone: policy.time_zone.name().to_owned(),
            });
        }
    }
    reasons
}
