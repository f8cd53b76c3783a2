//! The stored form of every event, the words of every refusal reason, and
//! what the state offers a read model.

use crate::support::*;
use chrono::NaiveTime;
use deedlog_communications_domain::{
    refusal_reasons, standing_reasons, Channel, Direction, Event, LawfulBasis, MessageStatus,
    RefusalReason, SendPolicy,
};
use deedlog_kernel::codec::{decode, encode};

fn all_reasons() -> Vec<RefusalReason> {
    vec![
        RefusalReason::NoConsent {
            channel: Channel::Sms,
        },
        RefusalReason::DoNotCall,
        RefusalReason::Unsubscribed,
        RefusalReason::HardBounced {
            channel: Channel::Email,
        },
        RefusalReason::PausedAfterReply {
            since: utc(2026, 11, 20, 9, 5),
        },
        RefusalReason::CadenceLimit {
            limit: 3,
            window_days: 7,
        },
        RefusalReason::QuietHours {
            local_time: NaiveTime::from_hms_opt(22, 15, 0).expect("a time"),
            time_zone: "Europe/Berlin".into(),
        },
    ]
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = vec![
        created(),
        Event::ContactUpdated {
            name: "n".into(),
            email: None,
            phone: None,
            address: None,
        },
        Event::HardBounceCleared {
            channel: Channel::Letter,
        },
        Event::ConsentGranted {
            channel: Channel::Call,
            lawful_basis: LawfulBasis::LegalObligation,
            source: "s".into(),
        },
        Event::ConsentWithdrawn {
            channel: Channel::Call,
            source: "s".into(),
        },
        Event::DoNotCallSet {},
        Event::DoNotCallCleared {},
        Event::Unsubscribed { source: "s".into() },
        Event::UnsubscribeCleared {},
        queued(1, Channel::Email, noon()),
        refused(2, Channel::Sms, all_reasons(), noon()),
        delivered("d"),
        opened("o"),
        bounced(1, Channel::Email, false),
        reply(3, noon()),
        Event::CadenceResumed {},
        Event::ContactForgotten {},
    ];
    for event in events {
        let (event_type, payload) = encode(&event).expect("encodes");
        assert!(payload.is_object(), "{event_type}");
        assert_eq!(
            decode::<Event>(event_type, &payload.to_string()).expect("decodes"),
            event
        );
    }
}

#[test]
fn refusal_reasons_are_stored_with_a_code_and_read_in_plain_words() {
    let (_, payload) = encode(&refused(2, Channel::Sms, all_reasons(), noon())).expect("encodes");
    assert_eq!(
        payload["reasons"][0],
        serde_json::json!({"code": "no_consent", "channel": "sms"})
    );
    assert_eq!(
        payload["reasons"][1],
        serde_json::json!({"code": "do_not_call"})
    );
    assert_eq!(
        payload["reasons"][6],
        serde_json::json!({"code": "quiet_hours", "local_time": "22:15:00", "time_zone": "Europe/Berlin"})
    );
    let words: Vec<String> = all_reasons().iter().map(ToString::to_string).collect();
    assert_eq!(
        words,
        [
            "no consent for sms",
            "the contact is on the do-not-call list",
            "the contact unsubscribed from email",
            "an earlier email to the contact's email address bounced hard",
            "the contact replied on 2026-11-20 09:05 UTC and the cadence is paused",
            "the contact already got 3 messages in the last 7 days",
            "it is 22:15 in Europe/Berlin, within the quiet hours for calls and sms",
        ]
    );
    let codes: Vec<&str> = all_reasons().iter().map(RefusalReason::code).collect();
    assert_eq!(
        codes,
        [
            "no_consent",
            "do_not_call",
            "unsubscribed",
            "hard_bounced",
            "paused_after_reply",
            "cadence_limit",
            "quiet_hours"
        ]
    );
}

#[test]
fn the_state_tells_a_read_model_each_channels_standing_and_each_messages_status() {
    let history = with(
        vec![created(), granted(Channel::Email), Event::DoNotCallSet {}],
        [
            queued(1, Channel::Email, noon() - days(1)),
            refused(2, Channel::Sms, vec![RefusalReason::DoNotCall], noon()),
            reply(3, noon()),
        ],
    );
    let contact = state(&history).0.expect("a contact");
    assert_eq!(
        standing_reasons(&contact, Channel::Call),
        [
            RefusalReason::NoConsent {
                channel: Channel::Call
            },
            RefusalReason::DoNotCall,
            RefusalReason::PausedAfterReply { since: noon() },
        ]
    );
    assert_eq!(
        refusal_reasons(&contact, Channel::Email, noon(), &SendPolicy::default()),
        [RefusalReason::PausedAfterReply { since: noon() }]
    );
    let statuses: Vec<_> = contact
        .messages
        .values()
        .map(|m| (m.channel, m.direction, m.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Channel::Email, Direction::Outbound, MessageStatus::Queued),
            (Channel::Sms, Direction::Outbound, MessageStatus::Refused),
            (Channel::Email, Direction::Inbound, MessageStatus::Received),
        ]
    );
    assert_eq!(contact.sent_between(noon() - days(7), noon()), 1);
    assert!(contact.provider_events.contains("reply-3"));
}

#[test]
fn errors_are_classified_for_adapters() {
    use deedlog_communications_domain::Error;
    use deedlog_kernel::{Refusal, RefusalKind};
    let invalid = Error::Invalid {
        field: "body",
        reason: "must not be empty".into(),
    };
    assert_eq!(
        invalid.kind(),
        RefusalKind::InvalidArgument {
            field: "body".into(),
            reason: "must not be empty".into()
        }
    );
    assert_eq!(Error::NotFound.kind(), RefusalKind::NotFound);
    assert_eq!(
        Error::UnknownMessage { message_id: id(1) }.kind(),
        RefusalKind::NotFound
    );
    for (refused, code) in [
        (Error::AlreadyExists, "CONTACT_EXISTS"),
        (
            Error::DuplicateMessage { message_id: id(1) },
            "MESSAGE_ID_USED",
        ),
        (
            Error::NoAddressForChannel {
                channel: Channel::Letter,
            },
            "NO_ADDRESS_FOR_CHANNEL",
        ),
        (Error::NotSent { message_id: id(1) }, "MESSAGE_NOT_SENT"),
    ] {
        match refused.kind() {
            RefusalKind::Refused(reason) => assert_eq!(reason.code, code, "{refused}"),
            other => panic!("{refused} is a refusal, not {other:?}"),
        }
    }
}
