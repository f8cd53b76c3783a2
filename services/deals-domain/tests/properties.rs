//! Property tests: folding every emitted event equals stepping; events
//! survive their stored form; the stage only takes allowed moves; the
//! probability is always 0–100.

use chrono::{TimeZone, Utc};
use deedlog_deals_domain::{Action, Command, Deals, Event, Stage, State};
use deedlog_kernel::{replay, Currency, Decider, Money, UserId};
use proptest::prelude::*;
use uuid::Uuid;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

fn action() -> impl Strategy<Value = Action> {
    let stage = proptest::sample::select(Stage::ALL.to_vec());
    prop_oneof![
        1 => Just(Action::Open {
            property: Uuid::from_u128(1),
            buyer: Uuid::from_u128(2),
            agent: UserId::from_uuid(Uuid::from_u128(3)),
            offer: Some(eur(10_000)),
            commission: None,
            expected_close: None,
        }),
        3 => stage.prop_map(Action::MoveStage),
        1 => (-1i64..3).prop_map(|n| Action::Win { final_price: eur(n * 1000) }),
        1 => proptest::sample::select(vec!["", "price too high"]).prop_map(|r| Action::Lose { reason: r.into() }),
        1 => (0i64..3).prop_map(|n| Action::SetOffer(eur(n * 5000))),
        1 => proptest::option::of(0u8..=110).prop_map(Action::SetProbability),
        1 => (3u128..5).prop_map(|n| Action::Reassign(UserId::from_uuid(Uuid::from_u128(n)))),
        1 => Just(Action::Reopen),
    ]
}

proptest! {
    #[test]
    fn folding_all_events_equals_stepping(actions in proptest::collection::vec(action(), 1..80)) {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().expect("time");
        let mut state = State::default();
        let mut all = Vec::new();
        for action in actions {
            let Ok(events) = Deals::decide(&state, &Command { at, action }) else { continue };
            for event in &events {
                let before = state.0.as_ref().map(|d| d.stage);
                match event {
                    Event::StageMoved { from, to } => {
                        prop_assert_eq!(before, Some(*from));
                        prop_assert!(from.allowed_moves().contains(to));
                    }
                    Event::DealWon { from, .. } => prop_assert_eq!(*from, Stage::UnderContract),
                    Event::DealLost { from, .. } => prop_assert!(from.is_open()),
                    Event::DealReopened { to } => prop_assert!(to.is_open() && !before.is_some_and(Stage::is_open)),
                    _ => {}
                }
                let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encodes");
                prop_assert_eq!(&deedlog_kernel::codec::decode::<Event>(event_type, payload).expect("decodes"), event);
                state = Deals::evolve(state, event);
                if let Some(deal) = &state.0 {
                    prop_assert!(deal.probability_pct() <= 100);
                }
            }
            all.extend(events);
        }
        prop_assert_eq!(replay::<Deals>(&all), state);
    }
}
