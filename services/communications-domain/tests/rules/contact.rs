//! Creating and updating a contact; checked details; new addresses clear bounces.

use crate::support::*;
use deedlog_communications_domain::{
    Action, Channel, DeliveryStatus, Error, Event, LawfulBasis, PostalAddress,
};

fn create(email: Option<&str>, phone: Option<&str>, address: Option<PostalAddress>) -> Action {
    Action::Create {
        name: " Clara Vogel ".into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        address,
    }
}

fn update(email: Option<&str>, phone: Option<&str>, address: Option<PostalAddress>) -> Action {
    Action::Update {
        name: "Clara Vogel".into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        address,
    }
}

fn invalid(field: &'static str, reason: &str) -> Error {
    Error::Invalid {
        field,
        reason: reason.into(),
    }
}

#[test]
fn a_contact_is_created_once_with_normalised_details() {
    let messy = PostalAddress {
        street: " Lindenallee 4 ".into(),
        country: "de".into(),
        ..address()
    };
    Spec::given_nothing()
        .when(when(create(
            Some(" Clara@Vogel.example "),
            Some("+49 151 1234-5678"),
            Some(messy),
        )))
        .then_events(vec![created()]);
    Spec::given_nothing()
        .when(when(Action::Create {
            name: "Nur Name".into(),
            email: None,
            phone: None,
            address: None,
        }))
        .then_events(vec![Event::ContactCreated {
            name: "Nur Name".into(),
            email: None,
            phone: None,
            address: None,
        }]);
    Spec::given(vec![created()])
        .when(when(create(None, None, None)))
        .then_error(Error::AlreadyExists);
}

#[test]
fn every_command_on_a_missing_contact_is_refused() {
    for action in [
        update(None, None, None),
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
        send(1, Channel::Email),
        Action::RecordDelivery {
            message_id: id(1),
            status: DeliveryStatus::Delivered,
            provider_event_id: "p1".into(),
        },
        Action::RecordReply {
            message_id: id(2),
            in_reply_to: None,
            conversation_id: conversation(),
            channel: Channel::Sms,
            body: "hi".into(),
            provider_event_id: "p2".into(),
        },
        Action::ResumeCadence,
        Action::Forget,
    ] {
        Spec::given_nothing()
            .when(when(action))
            .then_error(Error::NotFound);
    }
}

#[test]
fn names_emails_and_phones_are_checked_naming_the_field() {
    let name = "must be 1 to 200 characters";
    for bad in ["   ".to_owned(), "x".repeat(201)] {
        Spec::given_nothing()
            .when(when(Action::Create {
                name: bad,
                email: None,
                phone: None,
                address: None,
            }))
            .then_error(invalid("name", name));
    }
    let email = "must be an email address such as anna@example.com";
    let long = format!("{}@vogel.example", "c".repeat(250));
    for bad in [
        "clara",
        "clara@",
        "@vogel.example",
        "a@b@c.de",
        "cla ra@x.de",
        "",
        &long,
    ] {
        Spec::given(vec![created()])
            .when(when(update(Some(bad), None, None)))
            .then_error(invalid("email", email));
    }
    let phone =
        "must be an international number such as +49 30 123456 (E.164: + and 7 to 15 digits)";
    for bad in [
        "030 123456",
        "+49 30",
        "+1234567890123456",
        "+49 30 12a456",
        "+",
    ] {
        Spec::given_nothing()
            .when(when(create(None, Some(bad), None)))
            .then_error(invalid("phone", phone));
    }
    Spec::given_nothing()
        .when(when(create(None, Some("+1234567"), None)))
        .then_events(vec![Event::ContactCreated {
            name: "Clara Vogel".into(),
            email: None,
            phone: Some("+1234567".into()),
            address: None,
        }]);
}

#[test]
fn postal_addresses_are_checked_part_by_part() {
    let cases = [
        (
            "address.street",
            PostalAddress {
                street: " ".into(),
                ..address()
            },
            "must not be empty",
        ),
        (
            "address.postal_code",
            PostalAddress {
                postal_code: "".into(),
                ..address()
            },
            "must not be empty",
        ),
        (
            "address.city",
            PostalAddress {
                city: "x".repeat(201),
                ..address()
            },
            "must be at most 200 characters",
        ),
        (
            "address.country",
            PostalAddress {
                country: "DEU".into(),
                ..address()
            },
            "is \"DEU\"; must be an ISO 3166-1 alpha-2 country code such as DE (any letter case)",
        ),
        (
            "address.country",
            PostalAddress {
                country: "xx".into(),
                ..address()
            },
            "is \"XX\", which is not an assigned ISO 3166-1 alpha-2 country code",
        ),
    ];
    for (field, bad, reason) in cases {
        Spec::given_nothing()
            .when(when(create(None, None, Some(bad))))
            .then_error(invalid(field, reason));
    }
}

#[test]
fn an_update_is_recorded_only_when_something_changes() {
    Spec::given(vec![created()])
        .when(when(update(
            Some("clara@vogel.example"),
            Some("+4915112345678"),
            Some(address()),
        )))
        .then_events(vec![]);
    Spec::given(vec![created()])
        .when(when(update(Some("clara@neu.example"), None, None)))
        .then_events(vec![Event::ContactUpdated {
            name: "Clara Vogel".into(),
            email: Some("clara@neu.example".into()),
            phone: None,
            address: None,
        }]);
}

#[test]
fn a_new_email_clears_the_email_hard_bounce_and_mail_goes_out_again() {
    let history = with(
        reachable(),
        [
            queued(1, Channel::Email, noon() - days(1)),
            bounced(1, Channel::Email, true),
        ],
    );
    let changed = Event::ContactUpdated {
        name: "Clara Vogel".into(),
        email: Some("clara@neu.example".into()),
        phone: Some("+4915112345678".into()),
        address: Some(address()),
    };
    Spec::given(history.clone())
        .when(when(update(
            Some("clara@neu.example"),
            Some("+4915112345678"),
            Some(address()),
        )))
        .then_events(vec![
            changed.clone(),
            Event::HardBounceCleared {
                channel: Channel::Email,
            },
        ]);
    Spec::given(with(
        history.clone(),
        [
            changed,
            Event::HardBounceCleared {
                channel: Channel::Email,
            },
        ],
    ))
    .when(when(send(2, Channel::Email)))
    .then_events(vec![queued(2, Channel::Email, noon())]);
    // A new name alone does not make a bounced address deliverable.
    let renamed = Action::Update {
        name: "Clara Vogel-Berg".into(),
        email: Some("clara@vogel.example".into()),
        phone: Some("+4915112345678".into()),
        address: Some(address()),
    };
    Spec::given(history)
        .when(when(renamed))
        .then_events(vec![Event::ContactUpdated {
            name: "Clara Vogel-Berg".into(),
            email: Some("clara@vogel.example".into()),
            phone: Some("+4915112345678".into()),
            address: Some(address()),
        }]);
}

#[test]
fn a_new_phone_clears_sms_and_call_bounces_and_a_new_address_the_letter_bounce() {
    let history = with(
        reachable(),
        [
            queued(1, Channel::Sms, noon() - days(8)),
            bounced(1, Channel::Sms, true),
            queued(2, Channel::Call, noon() - days(8)),
            bounced(2, Channel::Call, true),
            queued(3, Channel::Letter, noon() - days(8)),
            bounced(3, Channel::Letter, true),
        ],
    );
    let moved = PostalAddress {
        street: "Seestraße 1".into(),
        ..address()
    };
    Spec::given(history.clone())
        .when(when(update(
            Some("clara@vogel.example"),
            Some("+4917000000000"),
            Some(moved.clone()),
        )))
        .then_events(vec![
            Event::ContactUpdated {
                name: "Clara Vogel".into(),
                email: Some("clara@vogel.example".into()),
                phone: Some("+4917000000000".into()),
                address: Some(moved),
            },
            Event::HardBounceCleared {
                channel: Channel::Sms,
            },
            Event::HardBounceCleared {
                channel: Channel::Call,
            },
            Event::HardBounceCleared {
                channel: Channel::Letter,
            },
        ]);
    // Removing the phone leaves nothing to deliver to, so the bounce stays.
    let contact = state(&with(
        history,
        [Event::ContactUpdated {
            name: "Clara Vogel".into(),
            email: None,
            phone: None,
            address: None,
        }],
    ))
    .0
    .expect("a contact");
    assert!(contact.compliance.profile(Channel::Sms).hard_bounced);
}
