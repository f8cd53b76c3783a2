//! The rules of a deal's life.

use crate::command::{Action, Command};
use crate::error::Error;
use crate::event::Event;
use crate::scenario::{self, Scenario};
use crate::stage::Stage;
use crate::state::{Deal, State};
use deedlog_kernel::Money;

const MAX_REASON_LEN: usize = 500;

pub fn decide(state: &State, command: &Command) -> Result<Vec<Event>, Error> {
    let deal = match (&state.0, &command.action) {
        (Some(_), Action::Open { .. }) => return Err(Error::AlreadyExists),
        (
            None,
            Action::Open {
                property,
                buyer,
                agent,
                offer,
                commission,
                expected_close,
            },
        ) => {
            if let Some(offer) = offer {
                positive("offer", offer)?;
            }
            if let Some(commission) = commission {
                positive("commission", commission)?;
            }
            if let (Some(o), Some(c)) = (offer, commission) {
                if o.currency != c.currency {
                    return Err(Error::CurrencyMismatch {
                        expected: o.currency.to_string(),
                    });
                }
            }
            return Ok(vec![Event::DealOpened {
                property: *property,
                buyer: *buyer,
                agent: *agent,
                offer: *offer,
                commission: *commission,
                expected_close: *expected_close,
            }]);
        }
        (None, _) => return Err(Error::NotFound),
        (Some(deal), _) => deal,
    };
    match (&command.action, deal.stage.is_open()) {
        (Action::Reopen, false) => Ok(vec![Event::DealReopened {
            to: deal.last_open_stage,
        }]),
        (Action::Reopen, true) => Err(Error::NotClosed),
        (_, false) => Err(Error::Closed { stage: deal.stage }),
        (action, true) => decide_open(deal, action),
    }
}

/// A change to an open deal.
fn decide_open(deal: &Deal, action: &Action) -> Result<Vec<Event>, Error> {
    let unless = |unchanged: bool, event: Event| if unchanged { vec![] } else { vec![event] };
    Ok(match action {
        Action::Open { .. } => return Err(Error::AlreadyExists),
        Action::Reopen => return Err(Error::NotClosed),
        Action::MoveStage(to) => {
            if *to == deal.stage {
                return Ok(vec![]);
            }
            if !to.is_open() {
                return Err(Error::invalid(
                    "stage",
                    "closing a deal takes win (with the final price) or lose (with a reason)",
                ));
            }
            if !deal.stage.allowed_moves().contains(to) {
                return Err(refusal(deal.stage, *to));
            }
            vec![Event::StageMoved {
                from: deal.stage,
                to: *to,
            }]
        }
        Action::Win { final_price } => {
            positive("final_price", final_price)?;
            same_currency(deal, final_price)?;
            if deal.stage != Stage::UnderContract {
                return Err(refusal(deal.stage, Stage::ClosedWon));
            }
            vec![Event::DealWon {
                from: deal.stage,
                final_price: *final_price,
            }]
        }
        Action::Lose { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(Error::invalid("reason", "a lost deal needs a reason"));
            }
            if reason.chars().count() > MAX_REASON_LEN {
                return Err(Error::invalid("reason", "must be at most 500 characters"));
            }
            vec![Event::DealLost {
                from: deal.stage,
                reason: reason.to_owned(),
            }]
        }
        Action::SetOffer(offer) => {
            positive("offer", offer)?;
            same_currency(deal, offer)?;
            unless(
                deal.offer == Some(*offer),
                Event::OfferSet {
                    from: deal.offer,
                    to: *offer,
                },
            )
        }
        Action::SetCommission(commission) => {
            positive("commission", commission)?;
            same_currency(deal, commission)?;
            unless(
                deal.commission == Some(*commission),
                Event::CommissionSet { to: *commission },
            )
        }
        Action::SetProbability(pct) => {
            if pct.is_some_and(|p| p > 100) {
                return Err(Error::invalid(
                    "probability_pct",
                    "must be between 0 and 100",
                ));
            }
            unless(
                deal.probability_override == *pct,
                Event::ProbabilitySet { pct: *pct },
            )
        }
        Action::SetExpectedClose(date) => unless(
            deal.expected_close == *date,
            Event::ExpectedCloseSet { date: *date },
        ),
        Action::Reassign(agent) => unless(
            deal.agent == *agent,
            Event::DealReassigned {
                from: deal.agent,
                to: *agent,
            },
        ),
        Action::AddScenario {
            scenario_id,
            name,
            price,
            costs,
            financing,
        }
        | Action::UpdateScenario {
            scenario_id,
            name,
            price,
            costs,
            financing,
        } => {
            let draft = Scenario {
                id: *scenario_id,
                name: name.clone(),
                price: *price,
                costs: costs.clone(),
                financing: *financing,
            };
            match action {
                Action::AddScenario { .. } => scenario::add(deal, draft)?,
                _ => scenario::update(deal, draft)?,
            }
        }
        Action::RemoveScenario { scenario_id } => scenario::remove(deal, *scenario_id)?,
    })
}

fn refusal(from: Stage, to: Stage) -> Error {
    Error::TransitionNotAllowed {
        from,
        to,
        allowed: from.allowed_moves(),
    }
}

/// Refuses an amount of 0 or less, or above 10^13 minor units, naming
/// `{field}.amount_minor`.
fn positive(field: &str, money: &Money) -> Result<(), Error> {
    if money.amount_minor <= 0 {
        return Err(Error::invalid(
            format!("{field}.amount_minor"),
            "must be greater than 0",
        ));
    }
    if money.amount_minor > deedlog_kernel::money::MAX_AMOUNT_MINOR {
        return Err(Error::invalid(
            format!("{field}.amount_minor"),
            "must be at most 10^13 minor units",
        ));
    }
    Ok(())
}

pub(crate) fn same_currency(deal: &Deal, money: &Money) -> Result<(), Error> {
    match deal.currency() {
        Some(currency) if currency != money.currency => Err(Error::CurrencyMismatch {
            expected: currency.to_string(),
        }),
        _ => Ok(()),
    }
}
