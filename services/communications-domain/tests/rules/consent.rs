//! Consent per channel, the do-not-call list and unsubscribing from email.

use crate::support::*;
use deedlog_communications_domain::{
    Action, Channel, Consent, Error, Event, LawfulBasis, RefusalReason,
};

fn grant(channel: Channel, lawful_basis: LawfulBasis, source: &str) -> Action {
    Action::GrantConsent {
        channel,
        lawful_basis,
        source: source.into(),
    }
}

fn withdrawn(channel: Channel) -> Event {
    Event::ConsentWithdrawn {
        channel,
        source: "phone call".into(),
    }
}

/// The usual explicit opt-in: email consent from the web form.
fn email_opt_in() -> Action {
    grant(Channel::Email, LawfulBasis::Consent, "web form")
}

#[test]
fn consent_is_granted_per_channel_with_its_lawful_basis_and_source() {
    Spec::given(vec![created()])
        .when(when(grant(
            Channel::Sms,
            LawfulBasis::Contract,
            " signed mandate ",
        )))
        .then_events(vec![Event::ConsentGranted {
            channel: Channel::Sms,
            lawful_basis: LawfulBasis::Contract,
            source: "signed mandate".into(),
        }]);
    let contact = state(&with(vec![created()], [granted(Channel::Sms)]))
        .0
        .expect("a contact");
    assert!(contact.compliance.profile(Channel::Sms).consented());
    assert!(!contact.compliance.profile(Channel::Email).consented());
    // The same grant again changes nothing; a new basis or source is recorded.
    Spec::given(reachable())
        .when(when(email_opt_in()))
        .then_events(vec![]);
    Spec::given(reachable())
        .when(when(grant(
            Channel::Email,
            LawfulBasis::LegitimateInterest,
            "web form",
        )))
        .then_events(vec![Event::ConsentGranted {
            channel: Channel::Email,
            lawful_basis: LawfulBasis::LegitimateInterest,
            source: "web form".into(),
        }]);
    Spec::given(vec![created()])
        .when(when(grant(Channel::Email, LawfulBasis::Consent, "  ")))
        .then_error(Error::Invalid {
            field: "source",
            reason: "must not be empty".into(),
        });
}

#[test]
fn consent_withdrawn_then_granted_again() {
    Spec::given(reachable())
        .when(when(Action::WithdrawConsent {
            channel: Channel::Email,
            source: "phone call".into(),
        }))
        .then_events(vec![withdrawn(Channel::Email)]);
    let history = with(reachable(), [withdrawn(Channel::Email)]);
    assert_eq!(
        state(&history)
            .0
            .expect("a contact")
            .compliance
            .profile(Channel::Email)
            .consent,
        Some(Consent::Withdrawn {
            source: "phone call".into()
        })
    );
    Spec::given(history.clone())
        .when(when(send(1, Channel::Email)))
        .then_events(vec![refused(
            1,
            Channel::Email,
            vec![RefusalReason::NoConsent {
                channel: Channel::Email,
            }],
            noon(),
        )]);
    // Withdrawing what is not granted changes nothing.
    Spec::given(history.clone())
        .when(when(Action::WithdrawConsent {
            channel: Channel::Email,
            source: "again".into(),
        }))
        .then_events(vec![]);
    Spec::given(history.clone())
        .when(when(email_opt_in()))
        .then_events(vec![granted(Channel::Email)]);
    Spec::given(with(history, [granted(Channel::Email)]))
        .when(when(send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, noon())]);
}

#[test]
fn do_not_call_is_set_and_cleared_once() {
    Spec::given(reachable())
        .when(when(Action::SetDoNotCall(true)))
        .then_events(vec![Event::DoNotCallSet {}]);
    let listed = with(reachable(), [Event::DoNotCallSet {}]);
    Spec::given(listed.clone())
        .when(when(Action::SetDoNotCall(true)))
        .then_events(vec![]);
    Spec::given(listed.clone())
        .when(when(Action::SetDoNotCall(false)))
        .then_events(vec![Event::DoNotCallCleared {}]);
    Spec::given(reachable())
        .when(when(Action::SetDoNotCall(false)))
        .then_events(vec![]);
    Spec::given(with(listed, [Event::DoNotCallCleared {}]))
        .when(when(send(1, Channel::Call)))
        .then_events(vec![queued(1, Channel::Call, noon())]);
}

#[test]
fn unsubscribing_is_recorded_once_and_a_new_email_consent_lifts_it() {
    let unsubscribed = Event::Unsubscribed {
        source: "provider webhook".into(),
    };
    Spec::given(reachable())
        .when(when(Action::Unsubscribe {
            source: "provider webhook".into(),
        }))
        .then_events(vec![unsubscribed.clone()]);
    let history = with(reachable(), [unsubscribed]);
    Spec::given(history.clone())
        .when(when(Action::Unsubscribe {
            source: "list footer".into(),
        }))
        .then_events(vec![]);
    // Consent on another channel is no opt-in to email.
    Spec::given(history.clone())
        .when(when(grant(Channel::Sms, LawfulBasis::Consent, "web form")))
        .then_events(vec![]);
    // Even the very same grant as before is a new, explicit opt-in.
    Spec::given(history.clone())
        .when(when(email_opt_in()))
        .then_events(vec![granted(Channel::Email), Event::UnsubscribeCleared {}]);
    let resubscribed = with(
        history,
        [granted(Channel::Email), Event::UnsubscribeCleared {}],
    );
    assert!(
        !state(&resubscribed)
            .0
            .expect("a contact")
            .compliance
            .unsubscribed
    );
    Spec::given(resubscribed)
        .when(when(send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, noon())]);
}
