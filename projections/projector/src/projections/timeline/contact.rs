//! A contact's events in words, without personal data: no name, email
//! address, phone number, postal address, subject, body, provider detail
//! or free-text source is ever written here. Those stay in the
//! communications read model, the only place they will be erased from.

use super::{and_list, words_of};
use deedlog_communications_domain::{Channel, Event, RefusalReason};

/// The event in words, without who did it.
pub(super) fn summary(event: &Event) -> String {
    match event {
        Event::ContactCreated {
            email,
            phone,
            address,
            ..
        } => created(email.is_some(), phone.is_some(), address.is_some()),
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
        Event::ContactForgotten {} => "contact forgotten".to_owned(),
    }
}

/// The words of `ContactCreated`: which details the contact was created with.
fn created(email: bool, phone: bool, address: bool) -> String {
    let has = details(email, phone, address);
    if has.is_empty() {
        "contact created without email address, phone number or postal address".to_owned()
    } else {
        format!("contact created with {}", and_list(&has))
    }
}

/// The words of a `ContactCreated` once the contact is forgotten: the
/// erased event still has an email address and a phone number (they read
/// `[erased]`) but no postal address (it reads null).
pub(super) fn created_when_forgotten(summary: &str) -> String {
    let listed = summary.strip_prefix("contact created with ").unwrap_or("");
    created(
        listed.contains("email address"),
        listed.contains("phone number"),
        false,
    )
}

/// Which details a contact has, never their values.
fn details(email: bool, phone: bool, address: bool) -> Vec<String> {
    [
        email.then_some("email address"),
        phone.then_some("phone number"),
        address.then_some("postal address"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forgotten_contact_was_created_without_its_postal_address() {
        let cases = [
            (
                (true, true, true),
                "contact created with email address and phone number",
            ),
            ((true, false, true), "contact created with email address"),
            ((false, true, false), "contact created with phone number"),
            (
                (false, false, true),
                "contact created without email address, phone number or postal address",
            ),
            (
                (false, false, false),
                "contact created without email address, phone number or postal address",
            ),
        ];
        for ((email, phone, address), expected) in cases {
            let before = created(email, phone, address);
            assert_eq!(created_when_forgotten(&before), expected, "{before}");
            assert_eq!(created_when_forgotten(expected), expected);
        }
    }
}
