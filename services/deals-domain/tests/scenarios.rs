//! Given/when/then for every rule and refusal of what-if scenarios.

mod common;

use common::*;
use deedlog_deals_domain::{Action, Deals, Error, Event, Stage};
use deedlog_kernel::{DeciderSpec, Money};

type Spec = DeciderSpec<Deals>;

fn invalid(field: &str, reason: &str) -> Error {
    Error::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Expects `inputs`, added to a fresh deal, to be refused with `error`.
fn refused(inputs: Inputs, error: Error) {
    Spec::given(vec![opened()])
        .when(when(inputs.add()))
        .then_error(error);
}

#[test]
fn a_scenario_is_added_with_its_inputs_only_and_a_trimmed_name() {
    let mut inputs = base();
    inputs.name = "  Base ".into();
    Spec::given(vec![opened()])
        .when(when(inputs.add()))
        .then_events(vec![base().added()]);
    let deal = state(&[opened(), base().added()]).0.expect("deal");
    assert_eq!(deal.scenarios.len(), 1);
    assert_eq!(deal.scenario(id(1)).map(|s| s.name.as_str()), Some("Base"));
    Spec::given(vec![opened(), base().added()])
        .when(when(base().add()))
        .then_error(invalid(
            "scenario_id",
            "already names a scenario of this deal",
        ));
}

#[test]
fn a_scenario_is_updated_once_and_an_unchanged_one_records_nothing() {
    let mut cheaper = base();
    cheaper.price = eur(38_000_000);
    Spec::given(vec![opened(), base().added()])
        .when(when(cheaper.clone().update()))
        .then_events(vec![cheaper.clone().updated()]);
    Spec::given(vec![opened(), base().added()])
        .when(when(base().update()))
        .then_events(vec![]);
    let deal = state(&[opened(), base().added(), cheaper.updated()])
        .0
        .expect("deal");
    assert_eq!(deal.scenario(id(1)).map(|s| s.price), Some(eur(38_000_000)));
    Spec::given(vec![opened()])
        .when(when(base().update()))
        .then_error(Error::UnknownScenario { scenario_id: id(1) });
}

#[test]
fn a_scenario_is_removed_and_frees_its_name() {
    let removed = Event::ScenarioRemoved { scenario_id: id(1) };
    Spec::given(vec![opened(), base().added()])
        .when(when(Action::RemoveScenario { scenario_id: id(1) }))
        .then_events(vec![removed.clone()]);
    let history = vec![opened(), base().added(), removed];
    assert!(state(&history).0.expect("deal").scenarios.is_empty());
    let mut again = base();
    again.id = id(2);
    Spec::given(history.clone())
        .when(when(again.clone().add()))
        .then_events(vec![again.added()]);
    Spec::given(history)
        .when(when(Action::RemoveScenario { scenario_id: id(1) }))
        .then_error(Error::UnknownScenario { scenario_id: id(1) });
    assert_eq!(
        Error::UnknownScenario { scenario_id: id(1) }.to_string(),
        format!("the deal has no scenario {}", id(1))
    );
}

#[test]
fn a_deal_keeps_at_most_twenty_scenarios() {
    let mut history = vec![opened()];
    for n in 0..20 {
        let mut inputs = base();
        (inputs.id, inputs.name) = (id(100 + n), format!("Variant {n}"));
        Spec::given(history.clone())
            .when(when(inputs.clone().add()))
            .then_events(vec![inputs.clone().added()]);
        history.push(inputs.added());
    }
    let mut one_more = base();
    (one_more.id, one_more.name) = (id(99), "One more".into());
    Spec::given(history.clone())
        .when(when(one_more.add()))
        .then_error(invalid("scenarios", "a deal keeps at most 20 scenarios"));
    // Updating a kept scenario is no new scenario.
    let mut renamed = base();
    (renamed.id, renamed.name) = (id(100), "Renamed".into());
    Spec::given(history)
        .when(when(renamed.clone().update()))
        .then_events(vec![renamed.updated()]);
}

#[test]
fn names_have_one_to_a_hundred_characters_and_are_unique_per_deal() {
    for (name, reason) in [
        (" ", "must not be empty"),
        (&*"é".repeat(101), "must be at most 100 characters"),
    ] {
        let mut inputs = base();
        inputs.name = name.into();
        refused(inputs, invalid("name", reason));
    }
    let mut longest = base();
    longest.name = "é".repeat(100);
    Spec::given(vec![opened()])
        .when(when(longest.clone().add()))
        .then_events(vec![longest.added()]);
    let mut twin = base();
    (twin.id, twin.name) = (id(2), " BASE".into());
    Spec::given(vec![opened(), base().added()])
        .when(when(twin.add()))
        .then_error(invalid(
            "name",
            "another scenario of this deal has this name",
        ));
    // A scenario keeps its own name through an update.
    let mut same_name = base();
    same_name.name = "base".into();
    Spec::given(vec![opened(), base().added()])
        .when(when(same_name.clone().update()))
        .then_events(vec![same_name.updated()]);
}

#[test]
fn the_price_is_positive_and_bounded() {
    for (minor, reason) in [
        (0, "must be greater than 0"),
        (-1, "must be greater than 0"),
        (10_000_000_000_001, "must be at most 10^13 minor units"),
    ] {
        let mut inputs = base();
        (inputs.price, inputs.financing) = (eur(minor), None);
        refused(inputs, invalid("price.amount_minor", reason));
    }
}

#[test]
fn costs_are_at_most_twenty_labelled_and_never_negative() {
    let mut many = base();
    many.costs = vec![cost("Fee", eur(1)); 21];
    refused(many, invalid("costs", "a scenario lists at most 20 costs"));
    let mut twenty_free = base();
    twenty_free.costs = vec![cost("Fee", eur(0)); 20];
    Spec::given(vec![opened()])
        .when(when(twenty_free.clone().add()))
        .then_events(vec![twenty_free.added()]);
    // Each refusal names the path of the cost's field in the request.
    for (bad, field, reason) in [
        (
            cost("Fee", eur(-1)),
            "costs[2].amount.amount_minor",
            "must not be negative",
        ),
        (
            cost("Fee", eur(10_000_000_000_001)),
            "costs[2].amount.amount_minor",
            "must be at most 10^13 minor units",
        ),
        (cost("  ", eur(1)), "costs[2].label", "must not be empty"),
        (
            cost(&"x".repeat(101), eur(1)),
            "costs[2].label",
            "must be at most 100 characters",
        ),
    ] {
        let mut inputs = base();
        inputs.costs.push(bad);
        refused(inputs, invalid(field, reason));
    }
}

#[test]
fn a_loan_is_between_zero_and_the_price_at_a_bounded_rate_and_term() {
    let cases: [(Money, u32, u32, &'static str, &str); 6] = [
        (
            eur(-1),
            350,
            360,
            "financing.loan.amount_minor",
            "must not be negative",
        ),
        (
            eur(40_000_001),
            350,
            360,
            "financing.loan.amount_minor",
            "must not exceed the price",
        ),
        (
            eur(1),
            3001,
            360,
            "financing.annual_rate_bp",
            "must be between 0 and 3000 (30%)",
        ),
        (
            eur(1),
            350,
            0,
            "financing.term_months",
            "must be between 1 and 600",
        ),
        (
            eur(1),
            350,
            601,
            "financing.term_months",
            "must be between 1 and 600",
        ),
        (
            eur(1),
            u32::MAX,
            u32::MAX,
            "financing.annual_rate_bp",
            "must be between 0 and 3000 (30%)",
        ),
    ];
    for (amount, rate, term, field, reason) in cases {
        let mut inputs = base();
        inputs.financing = loan(amount, rate, term);
        refused(inputs, invalid(field, reason));
    }
    for financing in [loan(eur(0), 0, 1), loan(eur(40_000_000), 3000, 600), None] {
        let mut inputs = base();
        inputs.financing = financing;
        Spec::given(vec![opened()])
            .when(when(inputs.clone().add()))
            .then_events(vec![inputs.added()]);
    }
}

#[test]
fn every_amount_is_in_the_deals_currency() {
    let eur_expected = Error::CurrencyMismatch {
        expected: "EUR".into(),
    };
    let mut price = base();
    (price.price, price.financing) = (usd(40_000_000), None);
    refused(price, eur_expected.clone());
    let mut a_cost = base();
    a_cost.costs.push(cost("Survey", usd(50_000)));
    refused(a_cost, eur_expected.clone());
    let mut a_loan = base();
    a_loan.financing = loan(usd(1), 350, 360);
    refused(a_loan, eur_expected.clone());
    // A deal without amounts takes the first scenario's currency and keeps it.
    let bare = Event::DealOpened {
        property: id(10),
        buyer: id(20),
        agent: deedlog_kernel::UserId::from_uuid(id(30)),
        offer: None,
        commission: None,
        expected_close: None,
    };
    let mut in_usd = base();
    (in_usd.price, in_usd.costs, in_usd.financing) = (usd(100), vec![], None);
    Spec::given(vec![bare.clone()])
        .when(when(in_usd.clone().add()))
        .then_events(vec![in_usd.clone().added()]);
    let history = vec![bare, in_usd.added()];
    assert_eq!(
        state(&history).0.and_then(|d| d.currency()),
        Some(usd(0).currency)
    );
    Spec::given(history)
        .when(when(Action::SetOffer(eur(1))))
        .then_error(Error::CurrencyMismatch {
            expected: "USD".into(),
        });
}

#[test]
fn closed_deals_refuse_scenario_changes_and_keep_their_scenarios() {
    let mut lost = at_stage(Stage::Offer);
    lost.push(base().added());
    lost.push(Event::DealLost {
        from: Stage::Offer,
        reason: "financing failed".into(),
    });
    let mut other = base();
    (other.id, other.name) = (id(2), "Other".into());
    for action in [
        other.add(),
        base().update(),
        Action::RemoveScenario { scenario_id: id(1) },
    ] {
        Spec::given(lost.clone())
            .when(when(action))
            .then_error(Error::Closed {
                stage: Stage::ClosedLost,
            });
    }
    lost.push(Event::DealReopened { to: Stage::Offer });
    assert!(state(&lost).0.expect("deal").scenario(id(1)).is_some());
    Spec::given_nothing()
        .when(when(base().add()))
        .then_error(Error::NotFound);
}

#[test]
fn scenario_events_round_trip_through_their_stored_form() {
    let events = [
        base().added(),
        base().updated(),
        Event::ScenarioRemoved { scenario_id: id(1) },
    ];
    for event in events {
        let (event_type, payload) = deedlog_kernel::codec::encode(&event).expect("encodes");
        assert!(payload.is_object(), "{event_type}");
        assert!(payload.get("expected_value").is_none(), "inputs only");
        assert_eq!(
            deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string())
                .expect("decodes"),
            event
        );
    }
}
