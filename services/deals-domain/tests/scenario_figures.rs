//! Worked examples of a scenario's figures, checked against values computed
//! independently with exact rational arithmetic (Python's `fractions`).

mod common;

use common::*;
use deedlog_deals_domain::{figures, Event, ScenarioFigures, Stage};

/// The instalment and total interest of a loan of `minor` EUR cents.
fn annuity(minor: i64, rate_bp: u32, months: u32) -> (i64, i64) {
    let mut inputs = base();
    (inputs.price, inputs.financing) = (eur(minor), loan(eur(minor), rate_bp, months));
    let f = figures(&inputs, 100).expect("figures");
    let payment = f.monthly_payment.expect("financed");
    (payment.amount_minor, f.total_interest.amount_minor)
}

#[test]
fn the_base_scenario_at_the_offer_stage() {
    let mut history = at_stage(Stage::Offer);
    history.push(base().added());
    let deal = state(&history).0.expect("deal");
    // 300,000.00 at 3.5% over 360 months: 1,347.13 a month (1,347.134…),
    // 184,968.26 interest in all. Net 400,000 − 36,000 − 184,968.26 =
    // 179,031.74, × 40% = 71,612.696 → 71,612.70.
    assert_eq!(
        deal.scenario_figures(id(1)),
        Some(ScenarioFigures {
            total_costs: eur(3_600_000),
            monthly_payment: Some(eur(134_713)),
            total_interest: eur(18_496_826),
            equity_needed: eur(13_600_000),
            probability_pct: 40,
            expected_value: eur(7_161_270),
        })
    );
    assert_eq!(deal.scenario_figures(id(2)), None);
}

#[test]
fn the_expected_value_follows_the_deals_current_probability() {
    let mut history = at_stage(Stage::Offer);
    history.push(base().added());
    history.push(Event::ProbabilitySet { pct: Some(55) });
    let ev = |history: &[Event]| {
        let deal = state(history).0.expect("deal");
        deal.scenario_figures(id(1)).map(|f| f.expected_value)
    };
    // 17,903,174 × 55% = 9,846,745.7.
    assert_eq!(ev(&history), Some(eur(9_846_746)));
    history.push(Event::StageMoved {
        from: Stage::Offer,
        to: Stage::Negotiation,
    });
    // Back to the stage default: × 60% = 10,741,904.4.
    assert_eq!(ev(&history), Some(eur(10_741_904)));
    history.push(Event::ProbabilitySet { pct: Some(0) });
    assert_eq!(ev(&history), Some(eur(0)));
}

#[test]
fn annuities_match_known_values() {
    assert_eq!(annuity(30_000_000, 350, 360), (134_713, 18_496_826));
    // 10,000.00 at 12% over a year: 888.49 a month (888.4879…), 661.85 interest.
    assert_eq!(annuity(1_000_000, 1200, 12), (88_849, 66_185));
    // The extremes the rules accept, exact to the minor unit.
    let max = 10_000_000_000_000;
    assert_eq!(
        annuity(max, 3000, 600),
        (250_000_091_965, 140_000_055_178_791)
    );
    assert_eq!(annuity(max, 1, 600), (16_708_437_500, 25_062_499_847));
    assert_eq!(annuity(max, 1, 1), (10_000_083_333_333, 83_333_333));
    assert_eq!(annuity(max, 350, 360), (44_904_468_781, 6_165_608_761_118));
    assert_eq!(
        annuity(max - 1, 2999, 599),
        (249_916_761_359, 139_700_140_054_051)
    );
}

#[test]
fn a_zero_rate_divides_the_loan_evenly_without_interest() {
    // 100,000.00 over 3 months: 33,333.333… → 33,333.33.
    assert_eq!(annuity(10_000_000, 0, 3), (3_333_333, 0));
    // 0.05 over 2 months: 0.025 rounds half away from zero to 0.03.
    assert_eq!(annuity(5, 0, 2), (3, 0));
    // A loan of 0.07 over 600 months at 0.01% rounds to nothing a month, and
    // the interest, counted from the unrounded instalment, is not negative.
    assert_eq!(annuity(7, 1, 600), (0, 0));
    assert_eq!(annuity(0, 3000, 600), (0, 0));
}

#[test]
fn without_a_loan_the_buyer_brings_price_and_costs() {
    let mut inputs = base();
    inputs.financing = None;
    let f = figures(&inputs, 100).expect("figures");
    assert_eq!(
        (f.monthly_payment, f.total_interest, f.equity_needed),
        (None, eur(0), eur(43_600_000))
    );
    assert_eq!(f.expected_value, eur(36_400_000));
}

#[test]
fn the_expected_value_rounds_half_away_from_zero() {
    let mut inputs = base();
    (inputs.price, inputs.costs, inputs.financing) = (eur(10), vec![], None);
    // 10 × 5% = 0.5 → 1.
    let f = figures(&inputs, 5).expect("figures");
    assert_eq!(f.expected_value, eur(1));
    // Costs above the price: −10 × 5% = −0.5 → −1.
    inputs.costs = vec![cost("Renovation", eur(20))];
    let f = figures(&inputs, 5).expect("figures");
    assert_eq!(f.expected_value, eur(-1));
}

#[test]
fn inputs_beyond_the_rules_have_no_figures() {
    for financing in [
        loan(eur(1), 3001, 12),
        loan(eur(1), 350, 0),
        loan(eur(1), 350, 601),
        loan(eur(-1), 350, 12),
        loan(eur(10_000_000_000_001), 350, 12),
    ] {
        let mut inputs = base();
        inputs.financing = financing;
        assert_eq!(figures(&inputs, 50), None, "{financing:?}");
    }
    let mut huge = base();
    (huge.costs, huge.financing) = (vec![cost("Fee", eur(i64::MAX)); 2], None);
    assert_eq!(figures(&huge, 50), None);
}
