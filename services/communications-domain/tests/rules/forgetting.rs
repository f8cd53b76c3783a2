//! Forgetting a contact (right to erasure): the event, what the state then
//! shows, and that a forgotten contact takes no more commands.

use crate::support::*;
use deedlog_communications_domain::{
    Action, Channel, DeliveryStatus, Error, Event, LawfulBasis, MessageStatus,
};
use deedlog_kernel::privacy::ERASED;
use deedlog_kernel::{Reason, Refusal, RefusalKind};

fn forgotten_history() -> Vec<Event> {
    with(
        reachable(),
        [
            queued(1, Channel::Email, noon()),
            bounced(1, Channel::Email, false),
            reply(2, noon()),
            Event::ContactForgotten {},
        ],
    )
}

#[test]
fn forgetting_a_contact_records_that_it_was_forgotten() {
    Spec::given(reachable())
        .when(when(Action::Forget))
        .then_events(vec![Event::ContactForgotten {}]);
}

#[test]
fn forgetting_a_missing_contact_is_not_found() {
    Spec::given_nothing()
        .when(when(Action::Forget))
        .then_error(Error::NotFound);
}

#[test]
fn a_forgotten_contact_reads_as_erased_and_keeps_its_compliance_and_messages() {
    let before = state(&forgotten_history()[..forgotten_history().len() - 1])
        .0
        .expect("a contact");
    let contact = state(&forgotten_history()).0.expect("a contact");
    assert!(contact.forgotten);
    assert!(!before.forgotten);
    assert_eq!(contact.name, ERASED);
    assert_eq!(contact.email.as_deref(), Some(ERASED));
    assert_eq!(contact.phone.as_deref(), Some(ERASED));
    assert_eq!(contact.address, None);
    // Consents, messages and their statuses are not personal: they stay.
    assert_eq!(contact.compliance, before.compliance);
    assert_eq!(contact.messages, before.messages);
    assert_eq!(
        contact.messages[&id(1)].status,
        MessageStatus::Bounced { hard: false }
    );
    assert_eq!(contact.paused_since, before.paused_since);
}

#[test]
fn an_absent_email_or_phone_stays_absent_when_forgotten() {
    let contact = state(&[
        Event::ContactCreated {
            name: "Clara Vogel".into(),
            email: None,
            phone: Some("+4915112345678".into()),
            address: None,
        },
        Event::ContactForgotten {},
    ])
    .0
    .expect("a contact");
    assert_eq!(contact.name, ERASED);
    assert_eq!(contact.email, None);
    assert_eq!(contact.phone.as_deref(), Some(ERASED));
    assert_eq!(contact.address, None);
}

#[test]
fn a_forgotten_contact_takes_no_more_commands() {
    for action in [
        Action::Forget,
        Action::Create {
            name: "Clara Vogel".into(),
            email: None,
            phone: None,
            address: None,
        },
        Action::Update {
            name: "Clara Vogel".into(),
            email: Some("clara@vogel.example".into()),
            phone: None,
            address: None,
        },
        Action::GrantConsent {
            channel: Channel::Email,
            lawful_basis: LawfulBasis::Consent,
            source: "web form".into(),
        },
        Action::WithdrawConsent {
            channel: Channel::Email,
            source: "phone".into(),
        },
        Action::SetDoNotCall(true),
        Action::Unsubscribe {
            source: "provider".into(),
        },
        send(3, Channel::Email),
        Action::RecordDelivery {
            message_id: id(1),
            status: DeliveryStatus::Delivered,
            provider_event_id: "late-report".into(),
        },
        Action::RecordReply {
            message_id: id(4),
            in_reply_to: Some(id(1)),
            conversation_id: conversation(),
            channel: Channel::Email,
            body: "hello again".into(),
            provider_event_id: "late-reply".into(),
        },
        Action::ResumeCadence,
    ] {
        Spec::given(forgotten_history())
            .when(when(action))
            .then_error(Error::Forgotten);
    }
}

#[test]
fn the_refusal_has_a_stable_reason_and_words_a_person_understands() {
    assert_eq!(
        Error::Forgotten.kind(),
        RefusalKind::Refused(Reason::new("CONTACT_FORGOTTEN"))
    );
    assert_eq!(
        Error::Forgotten.to_string(),
        "the contact was forgotten (right to erasure); it takes no more commands"
    );
}
