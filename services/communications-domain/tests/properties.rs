//! Property tests over random command sequences: folding every emitted
//! event equals stepping; every event survives its stored form; decide
//! never emits an event that does not fit the state it is decided on; and a
//! queued message never breaks a compliance rule.

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_communications_domain::{
    Action, Channel, Command, Communications, Contact, DeliveryStatus, Event, LawfulBasis,
    PostalAddress, SendPolicy, State,
};
use deedlog_kernel::{replay, Decider};
use proptest::prelude::*;
use uuid::Uuid;

/// Ids from here on stand for "the n-th message the contact already has",
/// resolved when the command runs, so reports mostly hit real messages.
const PICK: u128 = 1_000;

/// Replaces a picked id by the id of an existing message, if there is one.
fn resolve(state: &State, id: Uuid) -> Uuid {
    let n = id.as_u128();
    let known = state
        .0
        .as_ref()
        .map(|c| c.messages.keys().copied().collect::<Vec<_>>());
    match known {
        Some(ids) if n >= PICK && !ids.is_empty() => ids[(n - PICK) as usize % ids.len()],
        _ => id,
    }
}

fn resolved(state: &State, action: Action) -> Action {
    match action {
        Action::RecordDelivery {
            message_id,
            status,
            provider_event_id,
        } => Action::RecordDelivery {
            message_id: resolve(state, message_id),
            status,
            provider_event_id,
        },
        Action::RecordReply {
            message_id,
            in_reply_to,
            conversation_id,
            channel,
            body,
            provider_event_id,
        } => Action::RecordReply {
            message_id,
            in_reply_to: in_reply_to.map(|id| resolve(state, id)),
            conversation_id,
            channel,
            body,
            provider_event_id,
        },
        other => other,
    }
}

fn channel() -> impl Strategy<Value = Channel> {
    proptest::sample::select(Channel::ALL.to_vec())
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn details(n: usize) -> (Option<String>, Option<String>, Option<PostalAddress>) {
    let address = PostalAddress {
        street: format!("Lindenallee {n}"),
        postal_code: "10115".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    };
    match n {
        0 => (None, None, None),
        1 => (
            Some("a@x.example".into()),
            Some("+4930111111".into()),
            Some(address),
        ),
        _ => (
            Some("b@x.example".into()),
            Some("+4930222222".into()),
            Some(address),
        ),
    }
}

fn policy() -> impl Strategy<Value = SendPolicy> {
    proptest::sample::select(vec![
        SendPolicy::default_for(chrono_tz::Europe::Berlin),
        SendPolicy {
            cadence_limit: 1,
            cadence_window_days: 1,
            ..SendPolicy::default_for(chrono_tz::America::New_York)
        },
    ])
}

fn status() -> impl Strategy<Value = DeliveryStatus> {
    prop_oneof![
        Just(DeliveryStatus::Delivered),
        Just(DeliveryStatus::Opened),
        any::<bool>().prop_map(|hard| DeliveryStatus::Bounced {
            hard,
            detail: "550".into()
        }),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let basis = proptest::sample::select(LawfulBasis::ALL.to_vec());
    let source = proptest::sample::select(vec!["web form", "phone call", " "]);
    prop_oneof![
        1 => proptest::sample::select(vec![0usize, 1, 1, 2]).prop_map(|n| {
            let (email, phone, address) = details(n);
            Action::Create { name: "Clara".into(), email, phone, address }
        }),
        1 => (0usize..3).prop_map(|n| {
            let (email, phone, address) = details(n);
            Action::Update { name: "Clara".into(), email, phone, address }
        }),
        3 => (channel(), basis, source.clone()).prop_map(|(channel, lawful_basis, source)| {
            Action::GrantConsent { channel, lawful_basis, source: source.into() }
        }),
        1 => (channel(), source.clone()).prop_map(|(channel, source)| {
            Action::WithdrawConsent { channel, source: source.into() }
        }),
        1 => any::<bool>().prop_map(Action::SetDoNotCall),
        1 => source.prop_map(|source| Action::Unsubscribe { source: source.into() }),
        5 => (0u128..20, channel(), policy(), any::<bool>()).prop_map(|(n, channel, policy, empty)| {
            Action::SendMessage {
                message_id: id(n),
                conversation_id: id(100 + n % 2),
                channel,
                subject: channel.has_subject().then(|| "Exposé".into()),
                body: if empty { String::new() } else { "Hello".into() },
                property: None,
                deal: None,
                policy,
            }
        }),
        4 => (prop_oneof![3 => PICK..PICK + 8, 1 => 0u128..21], status(), 0u8..40).prop_map(|(n, status, p)| Action::RecordDelivery {
            message_id: id(n),
            status,
            provider_event_id: format!("p{p}"),
        }),
        1 => (18u128..24, proptest::option::of(prop_oneof![PICK..PICK + 8, 0u128..21]), 0u128..2, channel(), 0u8..40).prop_map(
            |(n, in_reply_to, conversation, channel, p)| Action::RecordReply {
                message_id: id(n),
                in_reply_to: in_reply_to.map(id),
                conversation_id: id(100 + conversation),
                channel,
                body: "Thanks".into(),
                provider_event_id: format!("p{p}"),
            }
        ),
        2 => Just(Action::ResumeCadence),
        1 => Just(Action::Forget),
    ]
}

/// Why `event` could not follow `state`, if it could not.
fn misfit(state: &State, event: &Event) -> Option<String> {
    let Some(contact) = &state.0 else {
        return (!matches!(event, Event::ContactCreated { .. }))
            .then(|| format!("{event:?} on a missing contact"));
    };
    if contact.forgotten {
        return Some(format!("{event:?} on a forgotten contact"));
    }
    let compliance = &contact.compliance;
    let new_id = |id: &Uuid| !contact.messages.contains_key(id);
    let sent = |id: &Uuid, channel: &Channel, provider: &String| {
        contact
            .messages
            .get(id)
            .is_some_and(|m| m.was_sent() && m.channel == *channel)
            && !contact.provider_events.contains(provider)
    };
    let fits = match event {
        Event::ContactCreated { .. } => false,
        Event::ContactUpdated {
            name,
            email,
            phone,
            address,
        } => {
            (name, email, phone, address)
                != (
                    &contact.name,
                    &contact.email,
                    &contact.phone,
                    &contact.address,
                )
        }
        Event::HardBounceCleared { channel } => compliance.profile(*channel).hard_bounced,
        Event::ConsentGranted { .. } => true,
        Event::ConsentWithdrawn { channel, .. } => compliance.profile(*channel).consented(),
        Event::DoNotCallSet {} => !compliance.do_not_call,
        Event::DoNotCallCleared {} => compliance.do_not_call,
        Event::Unsubscribed { .. } => !compliance.unsubscribed,
        Event::UnsubscribeCleared {} => compliance.unsubscribed,
        Event::MessageQueued {
            message_id,
            channel,
            ..
        } => new_id(message_id) && compliant(contact, *channel),
        Event::MessageRefused {
            message_id,
            channel,
            reasons,
            ..
        } => new_id(message_id) && contact.can_reach(*channel) && !reasons.is_empty(),
        Event::MessageDelivered {
            message_id,
            channel,
            provider_event_id,
            ..
        }
        | Event::MessageOpened {
            message_id,
            channel,
            provider_event_id,
            ..
        }
        | Event::MessageBounced {
            message_id,
            channel,
            provider_event_id,
            ..
        } => sent(message_id, channel, provider_event_id),
        Event::ReplyReceived {
            message_id,
            in_reply_to,
            provider_event_id,
            ..
        } => {
            new_id(message_id)
                && in_reply_to.is_none_or(|original| contact.messages.contains_key(&original))
                && !contact.provider_events.contains(provider_event_id)
        }
        Event::CadenceResumed {} => contact.paused_since.is_some(),
        Event::ContactForgotten {} => true,
    };
    (!fits).then(|| format!("{event:?} does not fit {contact:?}"))
}

/// The standing rules a queued message must meet, checked independently of decide.
fn compliant(contact: &Contact, channel: Channel) -> bool {
    let c = &contact.compliance;
    contact.can_reach(channel)
        && c.profile(channel).consented()
        && !c.profile(channel).hard_bounced
        && !(c.do_not_call && matches!(channel, Channel::Sms | Channel::Call))
        && !(c.unsubscribed && channel == Channel::Email)
        && contact.paused_since.is_none()
}

proptest! {
    #[test]
    fn folding_all_events_equals_stepping_and_every_event_fits(
        steps in proptest::collection::vec((action(), 0i64..3000), 1..80)
    ) {
        let mut at: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 3, 27, 0, 0, 0).single().expect("time");
        let mut state = State::default();
        let mut all = Vec::new();
        for (action, minutes) in steps {
            at += Duration::minutes(minutes);
            let action = resolved(&state, action);
            let Ok(events) = Communications::decide(&state, &Command { at, action }) else { continue };
            let before = state.clone();
            for event in &events {
                if let Some(why) = misfit(&state, event) {
                    return Err(TestCaseError::fail(why));
                }
                let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encodes");
                prop_assert_eq!(&deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string()).expect("decodes"), event);
                state = Communications::evolve(state, event);
            }
            // A command either changes something or emits nothing.
            prop_assert_eq!(events.is_empty(), state == before);
            all.extend(events);
        }
        prop_assert_eq!(replay::<Communications>(&all), state);
    }
}
