//! A contact's events in words, without personal data: no name, email
//! address, phone number, postal address, subject, body, provider detail
//! or free-text source is ever written here. Those stay in the
//! communications read model, the only place they will be erased from.

use super::{and_list, words_of};
use deedlog_communications_domain::{Channel, Event, PostalAddress, RefusalReason};

/// The event in words, without who did it.
pub(super) fn summary(event: &Event) -> String {
    match event {
        Event::ContactCreated {
            email,
            phone,
            address,
            ..
        } => {
            let has = details(email.as_deref(), phone.as_deref(), address.as_ref());
            if has.is_empty() {
                "contact created without email address, phone number or postal address".to_owned()
            } else {
                format!("contact created with {}", and_list(&has))
            }
        }
        Event::ContactUpdated { .. } => "contact details updated".to_owned(),
        Event::HardBounceCleared { channel } => format!("hard bounce on {channel} cleared"),
        Event::ConsentGranted {
            channel,
            lawful_basis,
            ..
        } => format!(
            "consent for {channel} granted (lawful basis: {})",
            words_of(lawful_basis)
        ),
        Event::ConsentWithdrawn { channel, .. } => format!("consent for {channel} withdrawn"),
        Event::DoNotCallSet {} => "put on the do-not-call list".to_owned(),
        Event::DoNotCallCleared {} => "taken off the do-not-call list".to_owned(),
        Event::Unsubscribed { .. } => "unsubscribed from email".to_owned(),
        Event::UnsubscribeCleared {} => "unsubscription from email lifted".to_owned(),
        Event::MessageQueued {
            channel: Channel::Call,
            ..
        } => "call logged".to_owned(),
        Event::MessageQueued { channel, .. } => format!("{channel} sent"),
        Event::MessageRefused {
            channel, reasons, ..
        } => {
            let reasons: Vec<String> = reasons.iter().map(reason_words).collect();
            format!("{channel} refused: {}", reasons.join("; "))
        }
        Event::MessageDelivered { channel, .. } => format!("{channel} delivered"),
        Event::MessageOpened { channel, .. } => format!("{channel} opened"),
        Event::MessageBounced {
            channel,
            hard: true,
            ..
        } => format!("{channel} bounced hard"),
        Event::MessageBounced {
            channel,
            hard: false,
            ..
        } => format!("{channel} bounced (soft)"),
        Event::ReplyReceived { channel, .. } => format!("reply received via {channel}"),
        Event::CadenceResumed {} => "cadence resumed".to_owned(),
    }
}

/// Which details a contact has, never their values.
fn details(
    email: Option<&str>,
    phone: Option<&str>,
    address: Option<&PostalAddress>,
) -> Vec<String> {
    [
        email.map(|_| "email address"),
        phone.map(|_| "phone number"),
        address.map(|_| "postal address"),
    ]
    .into_iter()
    .flatten()
    .map(str::to_owned)
    .collect()
}

fn reason_words(reason: &RefusalReason) -> String {
    match reason {
        RefusalReason::NoConsent { channel } => format!("no consent for {channel}"),
        RefusalReason::DoNotCall => "on the do-not-call list".to_owned(),
        RefusalReason::Unsubscribed => "unsubscribed from email".to_owned(),
        RefusalReason::HardBounced { channel } => {
            format!("an earlier {channel} bounced hard")
        }
        RefusalReason::PausedAfterReply { since } => format!(
            "cadence paused after a reply on {}",
            since.format("%Y-%m-%d")
        ),
        RefusalReason::CadenceLimit { limit, window_days } => {
            format!("cadence limit of {limit} messages in {window_days} days reached")
        }
        RefusalReason::QuietHours {
            local_time,
            time_zone,
        } => format!(
            "quiet hours ({} in {time_zone})",
            local_time.format("%H:%M")
        ),
    }
}
