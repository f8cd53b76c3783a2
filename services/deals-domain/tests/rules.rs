//! Given/when/then for every rule of the deals context (DOMAIN.md).

mod common;

use chrono::NaiveDate;
use common::{eur, state, when};
use deedlog_deals_domain::stage::OPEN;
use deedlog_deals_domain::{Action, Deals, Error, Event, Stage};
use deedlog_kernel::{Decider, DeciderSpec, UserId};
use uuid::Uuid;

type Spec = DeciderSpec<Deals>;

fn agent() -> UserId {
    UserId::from_uuid(Uuid::from_u128(1))
}

fn opened() -> Event {
    Event::DealOpened {
        property: Uuid::from_u128(10),
        buyer: Uuid::from_u128(20),
        agent: agent(),
        offer: Some(eur(40_000_000)),
        commission: Some(eur(1_200_000)),
        expected_close: NaiveDate::from_ymd_opt(2027, 3, 1),
    }
}

/// A deal (with a commission) walked forward to `stage` one step at a time.
fn at_stage(stage: Stage) -> Vec<Event> {
    common::walked(opened(), stage)
}

#[test]
fn a_deal_opens_as_a_lead() {
    Spec::given_nothing()
        .when(when(Action::Open {
            property: Uuid::from_u128(10),
            buyer: Uuid::from_u128(20),
            agent: agent(),
            offer: Some(eur(40_000_000)),
            commission: Some(eur(1_200_000)),
            expected_close: NaiveDate::from_ymd_opt(2027, 3, 1),
        }))
        .then_events(vec![opened()]);
    let deal = state(&[opened()]).0.expect("opened");
    assert_eq!(deal.stage, Stage::Lead);
    Spec::given(vec![opened()])
        .when(when(Action::Reopen))
        .then_error(Error::NotClosed);
    Spec::given_nothing()
        .when(when(Action::MoveStage(Stage::Qualified)))
        .then_error(Error::NotFound);
}

#[test]
fn stages_move_one_step_forward_or_back() {
    for (i, from) in OPEN.iter().enumerate() {
        if let Some(next) = OPEN.get(i + 1) {
            Spec::given(at_stage(*from))
                .when(when(Action::MoveStage(*next)))
                .then_events(vec![Event::StageMoved {
                    from: *from,
                    to: *next,
                }]);
        }
        if i > 0 {
            Spec::given(at_stage(*from))
                .when(when(Action::MoveStage(OPEN[i - 1])))
                .then_events(vec![Event::StageMoved {
                    from: *from,
                    to: OPEN[i - 1],
                }]);
        }
    }
}

#[test]
fn skipping_a_stage_is_refused_naming_the_allowed_moves() {
    let error = Deals::decide(
        &state(&at_stage(Stage::Lead)),
        &when(Action::MoveStage(Stage::Offer)),
    )
    .expect_err("skips");
    assert_eq!(
        error,
        Error::TransitionNotAllowed {
            from: Stage::Lead,
            to: Stage::Offer,
            allowed: vec![Stage::Qualified, Stage::ClosedLost],
        }
    );
    assert_eq!(
        error.to_string(),
        "a deal cannot move from lead to offer; allowed: qualified, closed_lost"
    );
    Spec::given(at_stage(Stage::UnderContract))
        .when(when(Action::MoveStage(Stage::ClosedWon)))
        .then_error(Error::Invalid {
            field: "stage".into(),
            reason: "closing a deal takes win (with the final price) or lose (with a reason)"
                .into(),
        });
}

#[test]
fn a_deal_is_won_from_under_contract_with_its_final_price() {
    Spec::given(at_stage(Stage::UnderContract))
        .when(when(Action::Win {
            final_price: eur(39_500_000),
        }))
        .then_events(vec![Event::DealWon {
            from: Stage::UnderContract,
            final_price: eur(39_500_000),
        }]);
    Spec::given(at_stage(Stage::Offer))
        .when(when(Action::Win {
            final_price: eur(1),
        }))
        .then_error(Error::TransitionNotAllowed {
            from: Stage::Offer,
            to: Stage::ClosedWon,
            allowed: vec![Stage::Viewing, Stage::Negotiation, Stage::ClosedLost],
        });
    Spec::given(at_stage(Stage::UnderContract))
        .when(when(Action::Win {
            final_price: eur(0),
        }))
        .then_error(Error::Invalid {
            field: "final_price.amount_minor".into(),
            reason: "must be greater than 0".into(),
        });
}

#[test]
fn a_deal_is_lost_from_any_open_stage_only_with_a_reason() {
    for stage in OPEN {
        Spec::given(at_stage(stage))
            .when(when(Action::Lose {
                reason: " buyer chose another flat ".into(),
            }))
            .then_events(vec![Event::DealLost {
                from: stage,
                reason: "buyer chose another flat".into(),
            }]);
    }
    Spec::given(at_stage(Stage::Viewing))
        .when(when(Action::Lose {
            reason: "  ".into(),
        }))
        .then_error(Error::Invalid {
            field: "reason".into(),
            reason: "a lost deal needs a reason".into(),
        });
}

#[test]
fn closed_deals_accept_no_change_but_reopen() {
    let mut won = at_stage(Stage::UnderContract);
    won.push(Event::DealWon {
        from: Stage::UnderContract,
        final_price: eur(39_000_000),
    });
    let mut lost = at_stage(Stage::Offer);
    lost.push(Event::DealLost {
        from: Stage::Offer,
        reason: "financing failed".into(),
    });
    for (history, stage, back_to) in [
        (won, Stage::ClosedWon, Stage::UnderContract),
        (lost, Stage::ClosedLost, Stage::Offer),
    ] {
        for action in [
            Action::SetOffer(eur(1)),
            Action::MoveStage(Stage::Lead),
            Action::Lose { reason: "x".into() },
            Action::Reassign(UserId::from_uuid(Uuid::from_u128(2))),
            Action::SetProbability(Some(50)),
        ] {
            Spec::given(history.clone())
                .when(when(action))
                .then_error(Error::Closed { stage });
        }
        Spec::given(history.clone())
            .when(when(Action::Reopen))
            .then_events(vec![Event::DealReopened { to: back_to }]);
        let mut reopened = history;
        reopened.push(Event::DealReopened { to: back_to });
        let deal = state(&reopened).0.expect("deal");
        assert_eq!(
            (deal.stage, deal.final_price, deal.lost_reason),
            (back_to, None, None)
        );
    }
}

#[test]
fn probability_defaults_by_stage_and_an_override_lasts_until_the_stage_changes() {
    let mut history = at_stage(Stage::Offer);
    let deal = state(&history).0.expect("deal");
    assert_eq!(deal.probability_pct(), 40);
    assert_eq!(deal.expected_value(), Some(eur(16_000_000)));
    Spec::given(history.clone())
        .when(when(Action::SetProbability(Some(55))))
        .then_events(vec![Event::ProbabilitySet { pct: Some(55) }]);
    history.push(Event::ProbabilitySet { pct: Some(55) });
    let deal = state(&history).0.expect("deal");
    assert_eq!(deal.expected_value(), Some(eur(22_000_000)));
    history.push(Event::StageMoved {
        from: Stage::Offer,
        to: Stage::Negotiation,
    });
    assert_eq!(state(&history).0.expect("deal").probability_pct(), 60);
    Spec::given(history)
        .when(when(Action::SetProbability(Some(101))))
        .then_error(Error::Invalid {
            field: "probability_pct".into(),
            reason: "must be between 0 and 100".into(),
        });
}

/// The rules keep a probability at most 100%, so the expected value is at
/// most the offer; a stored history beyond that yields no figure rather
/// than a clamped one.
#[test]
fn an_expected_value_beyond_an_i64_is_no_figure_not_a_clamped_one() {
    let mut history = at_stage(Stage::Lead);
    history.push(Event::OfferSet {
        from: Some(eur(40_000_000)),
        to: eur(i64::MAX),
    });
    history.push(Event::ProbabilitySet { pct: Some(100) });
    let deal = state(&history).0.expect("deal");
    assert_eq!(deal.expected_value(), Some(eur(i64::MAX)));
    history.push(Event::ProbabilitySet { pct: Some(200) });
    assert_eq!(state(&history).0.expect("deal").expected_value(), None);
}

#[test]
fn expected_value_rounds_to_the_nearest_minor_unit() {
    let mut history = at_stage(Stage::Lead);
    history.push(Event::OfferSet {
        from: Some(eur(40_000_000)),
        to: eur(333),
    });
    // 333 × 5% = 16.65 → 17 minor units.
    assert_eq!(
        state(&history).0.expect("deal").expected_value(),
        Some(eur(17))
    );
}

#[test]
fn amounts_stay_in_one_currency_and_changes_are_recorded_once() {
    let usd = common::usd(5);
    Spec::given(vec![opened()])
        .when(when(Action::SetOffer(usd)))
        .then_error(Error::CurrencyMismatch {
            expected: "EUR".into(),
        });
    Spec::given(vec![opened()])
        .when(when(Action::SetOffer(eur(41_000_000))))
        .then_events(vec![Event::OfferSet {
            from: Some(eur(40_000_000)),
            to: eur(41_000_000),
        }]);
    Spec::given(vec![opened()])
        .when(when(Action::SetOffer(eur(40_000_000))))
        .then_events(vec![]);
    Spec::given(vec![opened()])
        .when(when(Action::Reassign(agent())))
        .then_events(vec![]);
    let other = UserId::from_uuid(Uuid::from_u128(2));
    Spec::given(vec![opened()])
        .when(when(Action::Reassign(other)))
        .then_events(vec![Event::DealReassigned {
            from: agent(),
            to: other,
        }]);
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = vec![
        opened(),
        Event::StageMoved {
            from: Stage::Lead,
            to: Stage::Qualified,
        },
        Event::DealWon {
            from: Stage::UnderContract,
            final_price: eur(1),
        },
        Event::DealLost {
            from: Stage::Lead,
            reason: "r".into(),
        },
        Event::OfferSet {
            from: None,
            to: eur(1),
        },
        Event::CommissionSet { to: eur(1) },
        Event::ProbabilitySet { pct: None },
        Event::ExpectedCloseSet { date: None },
        Event::DealReassigned {
            from: agent(),
            to: agent(),
        },
        Event::DealReopened { to: Stage::Offer },
    ];
    for event in events {
        let (event_type, payload) = deedlog_kernel::codec::encode(&event).expect("encodes");
        assert!(payload.is_object(), "{event_type}");
        assert_eq!(
            deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string())
                .expect("decodes"),
            event
        );
    }
}
