//! Property tests: folding every emitted event equals stepping; events
//! survive their stored form; the stage only takes allowed moves; the
//! probability is always 0–100; scenarios stay within their rules and their
//! figures within their bounds.

use chrono::{TimeZone, Utc};
use deedlog_deals_domain::{
    figures, Action, Command, Cost, Deal, Deals, Event, Financing, Scenario, Stage, State,
};
use deedlog_kernel::{replay, Currency, Decider, Money, UserId};
use proptest::prelude::*;
use uuid::Uuid;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

/// Scenario inputs, mostly valid, sometimes refused: a zero price, another
/// currency, a negative cost, an empty label or name, a loan above the price,
/// a rate or a term out of range. More ids and names than a deal may keep.
fn scenario() -> impl Strategy<Value = Scenario> {
    let name = prop_oneof![
        8 => (0u8..24).prop_map(|n| format!("S{n}")),
        1 => (0u8..24).prop_map(|n| format!(" s{n} ")),
        1 => Just(String::new()),
    ];
    let price = prop_oneof![
        8 => (1i64..=100_000_000).prop_map(eur),
        1 => Just(eur(0)),
        1 => Just(Money::new(1000, Currency::new("USD").expect("USD"))),
    ];
    let cost = (
        proptest::sample::select(vec!["Notary", "Tax", ""]),
        prop_oneof![9 => (0i64..=5_000_000).prop_map(eur), 1 => Just(eur(-1))],
    )
        .prop_map(|(label, amount)| Cost {
            label: label.into(),
            amount,
        });
    let financing =
        (0i64..=110_000_000, 0u32..=3100, 0u32..=610).prop_map(|(loan, rate, term)| Financing {
            loan: eur(loan),
            annual_rate_bp: rate,
            term_months: term,
        });
    (
        (1u128..=24).prop_map(Uuid::from_u128),
        name,
        price,
        proptest::collection::vec(cost, 0..4),
        proptest::option::of(financing),
    )
        .prop_map(|(id, name, price, costs, financing)| Scenario {
            id,
            name,
            price,
            costs,
            financing,
        })
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
        4 => scenario().prop_map(|s| Action::AddScenario {
            scenario_id: s.id,
            name: s.name,
            price: s.price,
            costs: s.costs,
            financing: s.financing,
        }),
        2 => scenario().prop_map(|s| Action::UpdateScenario {
            scenario_id: s.id,
            name: s.name,
            price: s.price,
            costs: s.costs,
            financing: s.financing,
        }),
        1 => (1u128..=24).prop_map(|n| Action::RemoveScenario { scenario_id: Uuid::from_u128(n) }),
    ]
}

/// The rules every kept scenario satisfies, whatever the sequence.
fn check_scenarios(deal: &Deal) -> Result<(), TestCaseError> {
    prop_assert!(deal.scenarios.len() <= 20);
    let mut names: Vec<String> = deal
        .scenarios
        .iter()
        .map(|s| s.name.to_lowercase())
        .collect();
    names.sort();
    names.dedup();
    prop_assert_eq!(names.len(), deal.scenarios.len(), "names are unique");
    for s in &deal.scenarios {
        let amounts = s
            .costs
            .iter()
            .map(|c| c.amount)
            .chain(s.financing.map(|f| f.loan));
        for money in amounts.chain([s.price]) {
            prop_assert_eq!(Some(money.currency), deal.currency());
            prop_assert!(money.amount_minor >= 0);
        }
        let f = deal.scenario_figures(s.id);
        prop_assert!(f.is_some(), "every kept scenario has figures");
        if let Some(f) = f {
            let margin = s.price.amount_minor - f.total_costs.amount_minor;
            prop_assert!(f.expected_value.amount_minor <= margin.max(0));
            prop_assert!(f.total_interest.amount_minor >= 0);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn folding_all_events_equals_stepping(actions in proptest::collection::vec(action(), 1..120)) {
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
                prop_assert_eq!(&deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string()).expect("decodes"), event);
                state = Deals::evolve(state, event);
                if let Some(deal) = &state.0 {
                    prop_assert!(deal.probability_pct() <= 100);
                    check_scenarios(deal)?;
                }
            }
            all.extend(events);
        }
        prop_assert_eq!(replay::<Deals>(&all), state);
    }
}

/// Any scenario the rules accept, across their full bounds, and a probability.
fn accepted() -> impl Strategy<Value = (Scenario, u8)> {
    const MAX: i64 = 10_000_000_000_000;
    let costs = proptest::collection::vec(
        (0i64..=MAX).prop_map(|minor| Cost {
            label: "Cost".into(),
            amount: eur(minor),
        }),
        0..=20,
    );
    (1i64..=MAX)
        .prop_flat_map(move |price| {
            let financing =
                (0i64..=price, 0u32..=3000, 1u32..=600).prop_map(|(loan, rate, term)| Financing {
                    loan: eur(loan),
                    annual_rate_bp: rate,
                    term_months: term,
                });
            (Just(price), costs.clone(), proptest::option::of(financing))
        })
        .prop_map(|(price, costs, financing)| Scenario {
            id: Uuid::from_u128(1),
            name: "Any".into(),
            price: eur(price),
            costs,
            financing,
        })
        .prop_flat_map(|s| (Just(s), 0u8..=100))
}

/// The instalment in floating point, only as an independent reference: the
/// `ln_1p`/`exp_m1` form stays accurate at rates close to 0.
fn float_payment(financing: &Financing) -> f64 {
    let (loan, months) = (
        financing.loan.amount_minor as f64,
        f64::from(financing.term_months),
    );
    let rate = f64::from(financing.annual_rate_bp) / 120_000.0;
    if rate == 0.0 {
        return loan / months;
    }
    loan * rate / -(-months * rate.ln_1p()).exp_m1()
}

proptest! {
    #[test]
    fn expected_value_never_exceeds_price_minus_costs((s, pct) in accepted()) {
        let f = figures(&s, pct);
        prop_assert!(f.is_some());
        let Some(f) = f else { return Ok(()) };
        let costs: i64 = s.costs.iter().map(|c| c.amount.amount_minor).sum();
        let loan = s.financing.map_or(0, |fin| fin.loan.amount_minor);
        prop_assert_eq!(f.total_costs.amount_minor, costs);
        prop_assert_eq!(f.equity_needed.amount_minor, s.price.amount_minor + costs - loan);
        prop_assert!(f.total_interest.amount_minor >= 0);
        // Weighting by a probability of at most 100% only moves the net
        // towards 0, so when the costs exceed the price the value stays ≤ 0.
        prop_assert!(f.expected_value.amount_minor <= (s.price.amount_minor - costs).max(0));
        prop_assert_eq!(figures(&s, 0).map(|f| f.expected_value.amount_minor), Some(0));
    }

    #[test]
    fn a_zero_rate_costs_no_interest_and_splits_the_loan((s, _) in accepted()) {
        let Some(mut financing) = s.financing else { return Ok(()) };
        financing.annual_rate_bp = 0;
        let s = Scenario { financing: Some(financing), ..s };
        let f = figures(&s, 100);
        let (loan, months) = (financing.loan.amount_minor, i64::from(financing.term_months));
        // loan / months, rounded half away from zero (both are positive).
        let even = (2 * loan + months) / (2 * months);
        prop_assert_eq!(f.map(|f| (f.monthly_payment.map(|p| p.amount_minor), f.total_interest.amount_minor)), Some((Some(even), 0)));
    }

    #[test]
    fn the_payment_is_the_annuity_rounded_to_the_minor_unit(
        loan in 0i64..=10_000_000_000_000,
        rate in 0u32..=3000,
        term in 1u32..=600,
    ) {
        let financing = Financing { loan: eur(loan), annual_rate_bp: rate, term_months: term };
        let s = Scenario {
            id: Uuid::from_u128(1),
            name: "Loan".into(),
            price: eur(loan.max(1)),
            costs: vec![],
            financing: Some(financing),
        };
        let payment = figures(&s, 100).and_then(|f| f.monthly_payment).map(|p| p.amount_minor);
        prop_assert!(payment.is_some());
        let exact = float_payment(&financing);
        let off = (payment.unwrap_or(i64::MIN) as f64 - exact).abs();
        prop_assert!(off <= 0.501, "{payment:?} vs {exact}");
    }
}
