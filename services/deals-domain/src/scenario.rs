//! What-if scenarios of a deal: a price, the costs around it and an optional
//! loan. Events carry only these inputs; what they come to is derived by
//! [`crate::figures`] whenever it is asked for, so a change to the
//! arithmetic never contradicts the log.

use crate::decide::same_currency;
use crate::error::Error;
use crate::event::Event;
use crate::figures::{figures, ScenarioFigures, MAX_AMOUNT_MINOR};
use crate::state::Deal;
use deedlog_kernel::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most scenarios one deal keeps.
pub const MAX_SCENARIOS: usize = 20;
/// The most costs one scenario lists.
pub const MAX_COSTS: usize = 20;
/// The longest scenario name or cost label, in characters.
pub const MAX_TEXT_LEN: usize = 100;
/// The highest annual interest rate, in basis points (30%).
pub const MAX_RATE_BP: u32 = 3000;
/// The longest loan term, in months (50 years).
pub const MAX_TERM_MONTHS: u32 = 600;

/// One cost of a scenario (notary, transfer tax, renovation…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    pub label: String,
    pub amount: Money,
}

/// A loan repaid in equal monthly instalments (an annuity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Financing {
    pub loan: Money,
    /// The nominal annual rate in basis points: 350 is 3.5%.
    pub annual_rate_bp: u32,
    pub term_months: u32,
}

/// A named what-if scenario as the deal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub id: Uuid,
    pub name: String,
    pub price: Money,
    pub costs: Vec<Cost>,
    pub financing: Option<Financing>,
}

impl Deal {
    /// The scenario with this id, if the deal keeps one.
    pub fn scenario(&self, id: Uuid) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// What the scenario comes to at the deal's current probability; None
    /// for an unknown scenario (or inputs the rules would have refused).
    pub fn scenario_figures(&self, id: Uuid) -> Option<ScenarioFigures> {
        figures(self.scenario(id)?, self.probability_pct())
    }
}

/// Adds a scenario under an id and a name the deal does not use yet.
pub(crate) fn add(deal: &Deal, draft: Scenario) -> Result<Vec<Event>, Error> {
    if deal.scenario(draft.id).is_some() {
        return Err(Error::invalid(
            "scenario_id",
            "already names a scenario of this deal",
        ));
    }
    if deal.scenarios.len() >= MAX_SCENARIOS {
        return Err(Error::invalid(
            "scenarios",
            "a deal keeps at most 20 scenarios",
        ));
    }
    let s = validate(deal, draft)?;
    Ok(vec![Event::ScenarioAdded {
        scenario_id: s.id,
        name: s.name,
        price: s.price,
        costs: s.costs,
        financing: s.financing,
    }])
}

/// Replaces a scenario's inputs; an unchanged scenario records nothing.
pub(crate) fn update(deal: &Deal, draft: Scenario) -> Result<Vec<Event>, Error> {
    let current = deal.scenario(draft.id).ok_or(Error::UnknownScenario {
        scenario_id: draft.id,
    })?;
    let s = validate(deal, draft)?;
    if s == *current {
        return Ok(vec![]);
    }
    Ok(vec![Event::ScenarioUpdated {
        scenario_id: s.id,
        name: s.name,
        price: s.price,
        costs: s.costs,
        financing: s.financing,
    }])
}

pub(crate) fn remove(deal: &Deal, scenario_id: Uuid) -> Result<Vec<Event>, Error> {
    match deal.scenario(scenario_id) {
        Some(_) => Ok(vec![Event::ScenarioRemoved { scenario_id }]),
        None => Err(Error::UnknownScenario { scenario_id }),
    }
}

/// Folds a scenario event into the deal's list, keeping the order of addition.
pub(crate) fn evolve(scenarios: &mut Vec<Scenario>, event: &Event) {
    match event {
        Event::ScenarioAdded {
            scenario_id,
            name,
            price,
            costs,
            financing,
        }
        | Event::ScenarioUpdated {
            scenario_id,
            name,
            price,
            costs,
            financing,
        } => {
            let scenario = Scenario {
                id: *scenario_id,
                name: name.clone(),
                price: *price,
                costs: costs.clone(),
                financing: *financing,
            };
            let existing = scenarios.iter_mut().find(|s| s.id == *scenario_id);
            match (existing, matches!(event, Event::ScenarioAdded { .. })) {
                (Some(kept), false) => *kept = scenario,
                (None, true) => scenarios.push(scenario),
                // A repeated add or an update of a missing scenario does not fit.
                _ => {}
            }
        }
        Event::ScenarioRemoved { scenario_id } => scenarios.retain(|s| s.id != *scenario_id),
        _ => {}
    }
}

/// Checks every input and returns the scenario as it will be recorded.
fn validate(deal: &Deal, draft: Scenario) -> Result<Scenario, Error> {
    let name = text("name", &draft.name)?;
    // Names are compared without regard to case: "Base" and "base" would
    // read as the same scenario on the deal's page.
    let taken = name.to_lowercase();
    if deal
        .scenarios
        .iter()
        .any(|s| s.id != draft.id && s.name.to_lowercase() == taken)
    {
        return Err(Error::invalid(
            "name",
            "another scenario of this deal has this name",
        ));
    }
    amount("price", &draft.price, 1)?;
    same_currency(deal, &draft.price)?;
    let currency = draft.price.currency;
    let in_currency = |money: &Money| {
        if money.currency == currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                expected: currency.to_string(),
            })
        }
    };
    if draft.costs.len() > MAX_COSTS {
        return Err(Error::invalid("costs", "a scenario lists at most 20 costs"));
    }
    let mut costs = Vec::with_capacity(draft.costs.len());
    for (i, cost) in draft.costs.into_iter().enumerate() {
        let label = text(&format!("costs[{i}].label"), &cost.label)?;
        amount(&format!("costs[{i}].amount"), &cost.amount, 0)?;
        in_currency(&cost.amount)?;
        costs.push(Cost {
            label,
            amount: cost.amount,
        });
    }
    if let Some(financing) = &draft.financing {
        amount("financing.loan", &financing.loan, 0)?;
        in_currency(&financing.loan)?;
        if financing.loan.amount_minor > draft.price.amount_minor {
            return Err(Error::invalid(
                "financing.loan.amount_minor",
                "must not exceed the price",
            ));
        }
        if financing.annual_rate_bp > MAX_RATE_BP {
            return Err(Error::invalid(
                "financing.annual_rate_bp",
                "must be between 0 and 3000 (30%)",
            ));
        }
        if !(1..=MAX_TERM_MONTHS).contains(&financing.term_months) {
            return Err(Error::invalid(
                "financing.term_months",
                "must be between 1 and 600",
            ));
        }
    }
    Ok(Scenario {
        id: draft.id,
        name,
        price: draft.price,
        costs,
        financing: draft.financing,
    })
}

/// A trimmed text of 1 to 100 characters.
fn text(field: &str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.chars().count() > MAX_TEXT_LEN {
        "must be at most 100 characters"
    } else {
        return Ok(value.to_owned());
    };
    Err(Error::invalid(field, reason))
}

/// An amount from `floor` (0 or 1) up to the bound that keeps every derived
/// figure within an i64; a refusal names `{field}.amount_minor`.
fn amount(field: &str, money: &Money, floor: i64) -> Result<(), Error> {
    let reason = if money.amount_minor < floor {
        if floor > 0 {
            "must be greater than 0"
        } else {
            "must not be negative"
        }
    } else if money.amount_minor > MAX_AMOUNT_MINOR {
        "must be at most 10^13 minor units"
    } else {
        return Ok(());
    };
    Err(Error::invalid(format!("{field}.amount_minor"), reason))
}
