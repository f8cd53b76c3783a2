//! Sending: checked arguments, each compliance refusal alone and together,
//! and the edges of the cadence window.

use crate::support::*;
use deedlog_communications_domain::{Action, Channel, Error, Event, RefusalReason, SendPolicy};

fn invalid(field: &'static str, reason: &str) -> Error {
    Error::Invalid {
        field,
        reason: reason.into(),
    }
}

fn send_text(channel: Channel, subject: Option<&str>, body: String) -> Action {
    Action::SendMessage {
        message_id: id(1),
        conversation_id: conversation(),
        channel,
        subject: subject.map(Into::into),
        body,
        property: None,
        deal: Some(id(800)),
        policy: SendPolicy::default(),
    }
}

#[test]
fn a_compliant_message_is_queued_on_every_channel() {
    for channel in Channel::ALL {
        Spec::given(reachable())
            .when(when(send(1, channel)))
            .then_events(vec![queued(1, channel, noon())]);
    }
}

#[test]
fn each_refusal_reason_alone() {
    let cases = [
        (
            vec![created(), granted(Channel::Sms)],
            Channel::Email,
            RefusalReason::NoConsent {
                channel: Channel::Email,
            },
        ),
        (
            with(reachable(), [Event::DoNotCallSet {}]),
            Channel::Sms,
            RefusalReason::DoNotCall,
        ),
        (
            with(reachable(), [Event::DoNotCallSet {}]),
            Channel::Call,
            RefusalReason::DoNotCall,
        ),
        (
            with(
                reachable(),
                [Event::Unsubscribed {
                    source: "footer".into(),
                }],
            ),
            Channel::Email,
            RefusalReason::Unsubscribed,
        ),
        (
            with(
                reachable(),
                [
                    queued(7, Channel::Letter, noon() - days(9)),
                    bounced(7, Channel::Letter, true),
                ],
            ),
            Channel::Letter,
            RefusalReason::HardBounced {
                channel: Channel::Letter,
            },
        ),
        (
            with(reachable(), [reply(7, noon() - days(1))]),
            Channel::Email,
            RefusalReason::PausedAfterReply {
                since: noon() - days(1),
            },
        ),
        (
            with(
                reachable(),
                (10..13).map(|n| queued(n, Channel::Email, noon() - days(1))),
            ),
            Channel::Letter,
            RefusalReason::CadenceLimit {
                limit: 3,
                window_days: 7,
            },
        ),
    ];
    for (history, channel, reason) in cases {
        Spec::given(history)
            .when(when(send(1, channel)))
            .then_events(vec![refused(1, channel, vec![reason], noon())]);
    }
    let late = utc(2026, 11, 23, 22, 15);
    Spec::given(reachable())
        .when(at(late, send(1, Channel::Sms)))
        .then_events(vec![refused(
            1,
            Channel::Sms,
            vec![RefusalReason::QuietHours {
                local_time: chrono::NaiveTime::from_hms_opt(22, 15, 0).expect("a time"),
                time_zone: "UTC".into(),
            }],
            late,
        )]);
}

#[test]
fn reasons_are_scoped_to_their_channels() {
    // Do-not-call spares email and letters; unsubscribing spares sms; quiet hours spare email.
    Spec::given(with(reachable(), [Event::DoNotCallSet {}]))
        .when(when(send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, noon())]);
    Spec::given(with(
        reachable(),
        [Event::Unsubscribed {
            source: "footer".into(),
        }],
    ))
    .when(when(send(1, Channel::Sms)))
    .then_events(vec![queued(1, Channel::Sms, noon())]);
    let late = utc(2026, 11, 23, 23, 0);
    Spec::given(reachable())
        .when(at(late, send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, late)]);
    // A soft bounce blocks nothing; a hard bounce only its own channel.
    let bounces = [
        (Channel::Email, false, Channel::Email),
        (Channel::Sms, true, Channel::Call),
    ];
    for (bounced_on, hard, sent_on) in bounces {
        let history = with(
            reachable(),
            [
                queued(7, bounced_on, noon() - days(9)),
                bounced(7, bounced_on, hard),
            ],
        );
        Spec::given(history)
            .when(when(send(1, sent_on)))
            .then_events(vec![queued(1, sent_on, noon())]);
    }
}

#[test]
fn every_applicable_reason_is_listed_in_order() {
    let late = utc(2026, 11, 23, 23, 30);
    let history = vec![
        created(),
        Event::DoNotCallSet {},
        Event::Unsubscribed {
            source: "footer".into(),
        },
        queued(10, Channel::Sms, late - days(1)),
        queued(11, Channel::Email, late - days(2)),
        queued(12, Channel::Email, late - days(3)),
        bounced(10, Channel::Sms, true),
        bounced(11, Channel::Email, true),
        reply(20, late - days(1)),
    ];
    let common = |channel| {
        vec![
            RefusalReason::NoConsent { channel },
            RefusalReason::HardBounced { channel },
            RefusalReason::PausedAfterReply {
                since: late - days(1),
            },
            RefusalReason::CadenceLimit {
                limit: 3,
                window_days: 7,
            },
        ]
    };
    let mut sms = common(Channel::Sms);
    sms.insert(1, RefusalReason::DoNotCall);
    sms.push(RefusalReason::QuietHours {
        local_time: chrono::NaiveTime::from_hms_opt(23, 30, 0).expect("a time"),
        time_zone: "UTC".into(),
    });
    Spec::given(history.clone())
        .when(at(late, send(1, Channel::Sms)))
        .then_events(vec![refused(1, Channel::Sms, sms, late)]);
    let mut email = common(Channel::Email);
    email.insert(1, RefusalReason::Unsubscribed);
    Spec::given(history)
        .when(at(late, send(1, Channel::Email)))
        .then_events(vec![refused(1, Channel::Email, email, late)]);
}

#[test]
fn message_arguments_are_checked_naming_the_field() {
    for channel in [Channel::Email, Channel::Sms, Channel::Letter] {
        Spec::given(reachable())
            .when(when(send_text(channel, None, " \n".into())))
            .then_error(invalid("body", "must not be empty"));
    }
    Spec::given(reachable())
        .when(when(send_text(Channel::Email, None, "x".repeat(10_001))))
        .then_error(invalid("body", "must be at most 10000 characters"));
    Spec::given(reachable())
        .when(when(send_text(Channel::Sms, None, "x".repeat(1_601))))
        .then_error(invalid("body", "an sms must be at most 1600 characters"));
    for channel in [Channel::Sms, Channel::Call] {
        Spec::given(reachable())
            .when(when(send_text(channel, Some("Hi"), "Hello".into())))
            .then_error(invalid(
                "subject",
                "only email and letter messages have a subject",
            ));
    }
    for subject in ["  ".to_owned(), "s".repeat(201)] {
        Spec::given(reachable())
            .when(when(send_text(
                Channel::Letter,
                Some(&subject),
                "Hello".into(),
            )))
            .then_error(invalid("subject", "must be 1 to 200 characters"));
    }
    let zero = SendPolicy {
        cadence_limit: 0,
        ..SendPolicy::default()
    };
    Spec::given(reachable())
        .when(when(send_with(1, Channel::Email, zero)))
        .then_error(invalid("policy.cadence_limit", "must be at least 1"));
}

#[test]
fn a_call_note_may_be_empty_and_a_subject_is_trimmed() {
    Spec::given(reachable())
        .when(when(send_text(Channel::Call, None, String::new())))
        .then_events(vec![Event::MessageQueued {
            message_id: id(1),
            conversation_id: conversation(),
            channel: Channel::Call,
            subject: None,
            body: String::new(),
            property: None,
            deal: Some(id(800)),
            at: noon(),
        }]);
    Spec::given(reachable())
        .when(when(send_text(
            Channel::Email,
            Some(" Exposé "),
            "x".repeat(10_000),
        )))
        .then_events(vec![Event::MessageQueued {
            message_id: id(1),
            conversation_id: conversation(),
            channel: Channel::Email,
            subject: Some("Exposé".into()),
            body: "x".repeat(10_000),
            property: None,
            deal: Some(id(800)),
            at: noon(),
        }]);
}

#[test]
fn a_contact_without_the_address_a_channel_needs_is_an_error_not_a_refusal() {
    let bare = vec![Event::ContactCreated {
        name: "Nur Name".into(),
        email: None,
        phone: None,
        address: None,
    }];
    for channel in Channel::ALL {
        Spec::given(bare.clone())
            .when(when(send(1, channel)))
            .then_error(Error::NoAddressForChannel { channel });
    }
    assert_eq!(
        Error::NoAddressForChannel {
            channel: Channel::Sms
        }
        .to_string(),
        "the contact has no phone number to reach by sms"
    );
}

#[test]
fn a_message_id_is_used_once_whether_queued_refused_or_received() {
    for earlier in [
        queued(1, Channel::Email, noon() - days(30)),
        refused(
            1,
            Channel::Sms,
            vec![RefusalReason::DoNotCall],
            noon() - days(30),
        ),
        reply(1, noon() - days(30)),
    ] {
        Spec::given(with(reachable(), [earlier, Event::CadenceResumed {}]))
            .when(when(send(1, Channel::Email)))
            .then_error(Error::DuplicateMessage { message_id: id(1) });
    }
}
