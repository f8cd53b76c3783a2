//! Provider reports and replies: retried webhooks, unknown and unsent
//! messages, hard bounces, and the pause a reply puts on the cadence.

use crate::support::*;
use deedlog_communications_domain::{
    Action, Channel, DeliveryStatus, Error, Event, MessageStatus, RefusalReason,
};

fn report(n: u128, status: DeliveryStatus, provider_event_id: &str) -> Action {
    Action::RecordDelivery {
        message_id: id(n),
        status,
        provider_event_id: provider_event_id.into(),
    }
}

fn record_reply(n: u128, in_reply_to: Option<u128>, provider_event_id: &str) -> Action {
    Action::RecordReply {
        message_id: id(n),
        in_reply_to: in_reply_to.map(id),
        conversation_id: conversation(),
        channel: Channel::Email,
        body: "Friday works for me.".into(),
        provider_event_id: provider_event_id.into(),
    }
}

fn sent() -> Vec<Event> {
    with(reachable(), [queued(1, Channel::Email, noon() - days(1))])
}

#[test]
fn delivered_opened_and_bounced_reports_become_events() {
    Spec::given(sent())
        .when(when(report(1, DeliveryStatus::Delivered, "d-1")))
        .then_events(vec![delivered("d-1")]);
    Spec::given(sent())
        .when(when(report(1, DeliveryStatus::Opened, "o-1")))
        .then_events(vec![opened("o-1")]);
    Spec::given(sent())
        .when(when(report(
            1,
            DeliveryStatus::Bounced {
                hard: true,
                detail: format!(" 550 {}", "x".repeat(2_000)),
            },
            "b-1",
        )))
        .then_events(vec![Event::MessageBounced {
            message_id: id(1),
            channel: Channel::Email,
            hard: true,
            detail: format!("550 {}", "x".repeat(996)),
            provider_event_id: "b-1".into(),
            at: noon(),
        }]);
}

#[test]
fn a_hard_bounce_marks_the_channel_and_a_status_only_moves_forward() {
    let bounced_hard = with(sent(), [bounced(1, Channel::Email, true)]);
    let contact = state(&bounced_hard).0.expect("a contact");
    assert!(contact.compliance.profile(Channel::Email).hard_bounced);
    assert_eq!(
        contact.messages[&id(1)].status,
        MessageStatus::Bounced { hard: true }
    );
    let opened_then_delivered = with(sent(), [opened("o-1"), delivered("d-1")]);
    let contact = state(&opened_then_delivered).0.expect("a contact");
    assert_eq!(contact.messages[&id(1)].status, MessageStatus::Opened);
}

#[test]
fn a_retried_webhook_changes_nothing() {
    let delivered = with(sent(), [delivered("d-1")]);
    Spec::given(delivered.clone())
        .when(when(report(1, DeliveryStatus::Delivered, " d-1 ")))
        .then_events(vec![]);
    Spec::given(with(delivered, [reply(2, noon())]))
        .when(when(record_reply(3, None, "reply-2")))
        .then_events(vec![]);
}

#[test]
fn reports_need_a_sent_message_of_this_contact() {
    Spec::given(sent())
        .when(when(report(9, DeliveryStatus::Delivered, "d-9")))
        .then_error(Error::UnknownMessage { message_id: id(9) });
    let refusal = refused(2, Channel::Sms, vec![RefusalReason::DoNotCall], noon());
    Spec::given(with(sent(), [refusal]))
        .when(when(report(2, DeliveryStatus::Opened, "o-2")))
        .then_error(Error::NotSent { message_id: id(2) });
    Spec::given(with(sent(), [reply(3, noon())]))
        .when(when(report(3, DeliveryStatus::Delivered, "d-3")))
        .then_error(Error::NotSent { message_id: id(3) });
    Spec::given(sent())
        .when(when(report(1, DeliveryStatus::Delivered, "  ")))
        .then_error(Error::Invalid {
            field: "provider_event_id",
            reason: "must be 1 to 200 characters".into(),
        });
}

#[test]
fn a_reply_pauses_the_cadence_until_resumed() {
    Spec::given(sent())
        .when(when(record_reply(2, Some(1), "reply-2")))
        .then_events(vec![Event::ReplyReceived {
            message_id: id(2),
            in_reply_to: Some(id(1)),
            conversation_id: conversation(),
            channel: Channel::Email,
            body: "Friday works for me.".into(),
            provider_event_id: "reply-2".into(),
            at: noon(),
        }]);
    let paused = with(sent(), [reply(2, noon())]);
    assert_eq!(
        state(&paused).0.expect("a contact").paused_since,
        Some(noon())
    );
    // A later reply keeps the pause dating from the first.
    let twice = with(paused.clone(), [reply(3, noon() + days(1))]);
    assert_eq!(
        state(&twice).0.expect("a contact").paused_since,
        Some(noon())
    );
    let later = noon() + days(2);
    Spec::given(paused.clone())
        .when(at(later, send(4, Channel::Sms)))
        .then_events(vec![refused(
            4,
            Channel::Sms,
            vec![RefusalReason::PausedAfterReply { since: noon() }],
            later,
        )]);
    Spec::given(paused.clone())
        .when(when(Action::ResumeCadence))
        .then_events(vec![Event::CadenceResumed {}]);
    let resumed = with(paused, [Event::CadenceResumed {}]);
    Spec::given(resumed.clone())
        .when(when(Action::ResumeCadence))
        .then_events(vec![]);
    Spec::given(resumed)
        .when(at(later, send(4, Channel::Sms)))
        .then_events(vec![queued(4, Channel::Sms, later)]);
}

#[test]
fn a_reply_names_a_known_message_of_its_own_conversation() {
    Spec::given(sent())
        .when(when(record_reply(2, Some(9), "reply-2")))
        .then_error(Error::UnknownMessage { message_id: id(9) });
    Spec::given(sent())
        .when(when(Action::RecordReply {
            message_id: id(2),
            in_reply_to: Some(id(1)),
            conversation_id: id(501),
            channel: Channel::Sms,
            body: "ok".into(),
            provider_event_id: "reply-2".into(),
        }))
        .then_error(Error::Invalid {
            field: "conversation_id",
            reason: "differs from the conversation of the message replied to".into(),
        });
    Spec::given(sent())
        .when(when(record_reply(1, None, "reply-1")))
        .then_error(Error::DuplicateMessage { message_id: id(1) });
}

#[test]
fn a_long_reply_is_kept_cut_rather_than_lost() {
    let result = <deedlog_communications_domain::Communications as deedlog_kernel::Decider>::decide(
        &state(&sent()),
        &when(Action::RecordReply {
            message_id: id(2),
            in_reply_to: None,
            conversation_id: conversation(),
            channel: Channel::Email,
            body: "y".repeat(150_000),
            provider_event_id: "reply-2".into(),
        }),
    );
    let Ok(events) = result else {
        panic!("a reply is recorded, got {result:?}");
    };
    let [Event::ReplyReceived { body, .. }] = events.as_slice() else {
        panic!("one reply event, got {events:?}");
    };
    assert_eq!(body.chars().count(), 100_000);
}
