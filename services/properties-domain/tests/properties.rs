//! Property tests: for random command sequences, folding every emitted event
//! from the start gives the step-by-step state; every event survives its
//! stored form; a change already in effect produces nothing the second time;
//! the listing status only ever takes allowed moves.

use chrono::{NaiveDate, TimeZone, Utc};
use deedlog_kernel::{replay, Currency, Decider, Money, UserId};
use deedlog_properties_domain::model::{Address, Attributes, PropertyKind, Source};
use deedlog_properties_domain::{Action, Command, Event, ListingStatus, Properties, State};
use proptest::prelude::*;
use uuid::Uuid;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

fn address(city: &str) -> Address {
    Address {
        street: "Hauptstraße 1".into(),
        postal_code: "80331".into(),
        city: city.into(),
        country: "DE".into(),
        latitude: None,
        longitude: None,
    }
}

fn action() -> impl Strategy<Value = Action> {
    let status = proptest::sample::select(ListingStatus::ALL.to_vec());
    let tag = proptest::sample::select(vec!["garden", "Garden", "pool", " ", "lift"]);
    prop_oneof![
        Just(Action::Create {
            address: address("München"),
            kind: PropertyKind::House,
            attributes: Attributes::default(),
            asking_price: Some(eur(50_000_000)),
            agent: None,
            owner: None,
            tags: vec![],
        }),
        (-2i64..4).prop_map(|n| Action::ChangeAskingPrice(eur(n * 10_000_000))),
        status.prop_map(Action::ChangeListingStatus),
        tag.clone().prop_map(|t| Action::AddTag(t.into())),
        tag.prop_map(|t| Action::RemoveTag(t.into())),
        (0u128..3).prop_map(|n| Action::AssignAgent(UserId::from_uuid(Uuid::from_u128(n)))),
        proptest::option::of(0u128..2).prop_map(|o| Action::SetOwner(o.map(Uuid::from_u128))),
        (1i64..3).prop_map(|n| Action::RecordValuation {
            value: eur(n * 1_000_000),
            source: Source::Manual,
            valued_on: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        }),
        proptest::sample::select(vec!["Augsburg", "", "Köln"])
            .prop_map(|c| Action::ChangeAddress(address(c))),
        Just(Action::Archive),
        Just(Action::Restore),
    ]
}

/// Commands whose second application must change nothing.
fn settles(action: &Action) -> bool {
    !matches!(
        action,
        Action::RecordValuation { .. } | Action::Archive | Action::Restore | Action::Create { .. }
    )
}

proptest! {
    #[test]
    fn folding_all_events_equals_stepping(actions in proptest::collection::vec(action(), 1..60)) {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().expect("time");
        let mut state = State::default();
        let mut all = Vec::new();
        for action in actions {
            let command = Command { at, action };
            let Ok(events) = Properties::decide(&state, &command) else { continue };
            for event in &events {
                if let Event::ListingStatusChanged { from, to } = event {
                    let current = state.0.as_ref().map(|p| p.status);
                    prop_assert_eq!(current, Some(*from));
                    prop_assert!(from.may_move_to(*to), "{} -> {}", from, to);
                }
                let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encodes");
                prop_assert_eq!(&deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string()).expect("decodes"), event);
                state = Properties::evolve(state, event);
            }
            if settles(&command.action) && !events.is_empty() {
                let again = Properties::decide(&state, &command);
                prop_assert!(matches!(&again, Ok(e) if e.is_empty()), "{:?} again gave {:?}", command.action, again);
            }
            all.extend(events);
        }
        prop_assert_eq!(replay::<Properties>(&all), state);
    }
}
