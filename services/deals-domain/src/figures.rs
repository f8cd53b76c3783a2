//! What a what-if scenario comes to, in integer arithmetic only.
//!
//! Money is an integer of minor units, so no float takes part: every
//! intermediate is an i128 and every division rounds half away from zero
//! (2.5 → 3, −2.5 → −3), once, at the end of each figure.
//!
//! The monthly payment of a loan `L` at monthly rate `r` (the annual rate /
//! 12) over `n` months is the annuity `L·r / (1 − (1+r)^−n)`. It is computed
//! in the equivalent form `L·(1+r)^n / Σ_{k<n} (1+r)^k`, which takes no
//! difference of nearly equal numbers (the textbook form loses precision at
//! small rates) and needs no special case at 0%: the sum is then `n` and the
//! payment `L / n`. The growth factors `(1+r)^k` are fixed-point numbers with
//! 18 decimal places, each step rounded half away from zero. Within the
//! bounds the rules accept (amounts up to 10^13 minor units, rates up to 30%,
//! terms up to 600 months) their relative error stays below 10^-15, so every
//! figure is within a hundredth of a minor unit of the exact one before its
//! final rounding, and no intermediate overflows.

use crate::scenario::{Financing, Scenario, MAX_RATE_BP, MAX_TERM_MONTHS};
use deedlog_kernel::Money;

/// The largest amount a scenario accepts, in minor units (100 billion EUR):
/// with it every intermediate fits an i128 at 18 decimal places. The one
/// bound of every command's amounts, [`deedlog_kernel::money::MAX_AMOUNT_MINOR`].
pub const MAX_AMOUNT_MINOR: i64 = deedlog_kernel::money::MAX_AMOUNT_MINOR;

/// One, in the fixed point of the growth factors (18 decimal places).
const ONE: i128 = 1_000_000_000_000_000_000;
/// Basis points per unit, times the months of a year: the monthly rate is
/// `annual_rate_bp / BP_MONTHS`.
const BP_MONTHS: i128 = 10_000 * 12;

/// What a scenario comes to, all in the currency of its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioFigures {
    /// The sum of the scenario's costs.
    pub total_costs: Money,
    /// The annuity instalment, rounded to the minor unit; None without financing.
    pub monthly_payment: Option<Money>,
    /// Everything repaid over the term minus the loan, from the unrounded
    /// instalment: never negative, 0 at a 0% rate (a rounded instalment
    /// times the term could miss the loan by up to half a minor unit a month).
    pub total_interest: Money,
    /// What the buyer brings: price + costs − loan.
    pub equity_needed: Money,
    /// The probability of close, in percent, the expected value was weighted with.
    pub probability_pct: u8,
    /// (price − costs − interest) × probability.
    pub expected_value: Money,
}

/// Computes a scenario's figures at a probability of close in percent.
/// Returns None only for inputs beyond the bounds the rules accept (a loan
/// above 10^13 minor units, a rate above 30%, a term outside 1–600 months)
/// or figures beyond an i64.
pub fn figures(scenario: &Scenario, probability_pct: u8) -> Option<ScenarioFigures> {
    let currency = scenario.price.currency;
    let money = |minor: i128| Some(Money::new(i64::try_from(minor).ok()?, currency));
    let price = i128::from(scenario.price.amount_minor);
    // At most 20 costs of i64 each: the sum cannot leave an i128.
    let costs: i128 = scenario
        .costs
        .iter()
        .map(|c| i128::from(c.amount.amount_minor))
        .sum();
    let (loan, payment, interest) = match &scenario.financing {
        Some(financing) => {
            let (payment, interest) = annuity(financing)?;
            (
                i128::from(financing.loan.amount_minor),
                Some(payment),
                interest,
            )
        }
        None => (0, None, 0),
    };
    let net = price - costs - interest;
    Some(ScenarioFigures {
        total_costs: money(costs)?,
        monthly_payment: match payment {
            Some(p) => Some(money(p)?),
            None => None,
        },
        total_interest: money(interest)?,
        equity_needed: money(price + costs - loan)?,
        probability_pct,
        expected_value: money(div_round(net * i128::from(probability_pct), 100))?,
    })
}

/// The monthly instalment and the total interest of a loan, in minor units.
fn annuity(financing: &Financing) -> Option<(i128, i128)> {
    let Financing {
        loan,
        annual_rate_bp,
        term_months,
    } = *financing;
    // The bounds below are what keep every product under i128::MAX:
    // (1.025)^600 < 3·10^6, so growth < 3·10^24 and loan × growth < 3·10^37.
    if !(0..=MAX_AMOUNT_MINOR).contains(&loan.amount_minor)
        || annual_rate_bp > MAX_RATE_BP
        || !(1..=MAX_TERM_MONTHS).contains(&term_months)
    {
        return None;
    }
    let rate = i128::from(annual_rate_bp);
    let months = i128::from(term_months);
    // growth = (1+r)^k; sum = Σ_{j<k} (1+r)^j, both in fixed point.
    let (mut growth, mut sum) = (ONE, 0);
    for _ in 0..term_months {
        sum += growth;
        growth += div_round(growth * rate, BP_MONTHS);
    }
    let owed = i128::from(loan.amount_minor) * growth;
    let payment = div_round(owed, sum);
    // Everything repaid, months × owed / sum, rounded once; split into the
    // quotient and the remainder so the product stays within an i128.
    let repaid = months * (owed / sum) + div_round(months * (owed % sum), sum);
    // Each growth factor is at most the last one, so months × growth ≥ sum
    // and the interest is never negative.
    Some((payment, repaid - i128::from(loan.amount_minor)))
}

/// `numerator / denominator` rounded half away from zero; `denominator` > 0.
fn div_round(numerator: i128, denominator: i128) -> i128 {
    // Integer division truncates toward zero, so the remainder has the
    // numerator's sign and rounding away from zero steps the same way.
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    if 2 * remainder.abs() >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::div_round;

    #[test]
    fn division_rounds_half_away_from_zero() {
        let cases = [(5, 2, 3), (-5, 2, -3), (4, 3, 1), (-4, 3, -1), (0, 7, 0)];
        for (n, d, q) in cases {
            assert_eq!(div_round(n, d), q, "{n}/{d}");
        }
        assert_eq!(div_round(49, 100), 0);
        assert_eq!(div_round(-50, 100), -1);
    }
}
