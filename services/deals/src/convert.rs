//! Proto messages ↔ deals domain values: requests into the domain, naming
//! the field they reject, and domain values into requests (for callers
//! that build requests from domain values, such as the seed).

use deedlog_deals_domain::{Action, Cost, Financing, Scenario, Stage};
use deedlog_proto::deals::v1 as pb;
use deedlog_service::convert::money;
use deedlog_service::request::required_uuid;
use deedlog_service::Error;

// The closed stages convert too: the domain refuses them, since it names
// the commands that close a deal.
deedlog_service::proto_enum! {
    Stage <=> Stage {
        Lead, Qualified, Viewing, Offer, Negotiation, UnderContract, ClosedWon, ClosedLost,
    }
    from: stage,
    field: "stage",
    missing: "is required: lead, qualified, viewing, offer, negotiation or under_contract";
    to: stage_to_proto
}

/// An explicit probability in percent, or None for the stage's default.
pub fn probability(pct: Option<u32>) -> Result<Option<u8>, Error> {
    pct.map(|p| {
        u8::try_from(p).ok().filter(|p| *p <= 100).ok_or_else(|| {
            Error::invalid("probability_pct", format!("{p} is not between 0 and 100"))
        })
    })
    .transpose()
}

/// A new scenario, as a request describes it.
pub fn add_scenario(r: &pb::ScenarioRequest) -> Result<Action, Error> {
    let s = scenario(r)?;
    Ok(Action::AddScenario {
        scenario_id: s.id,
        name: s.name,
        price: s.price,
        costs: s.costs,
        financing: s.financing,
    })
}

/// New inputs for a scenario, as a request describes them.
pub fn update_scenario(r: &pb::ScenarioRequest) -> Result<Action, Error> {
    let s = scenario(r)?;
    Ok(Action::UpdateScenario {
        scenario_id: s.id,
        name: s.name,
        price: s.price,
        costs: s.costs,
        financing: s.financing,
    })
}

/// The scenario a request describes, every input checked for form; the
/// domain checks the rest (bounds, currencies, names).
fn scenario(r: &pb::ScenarioRequest) -> Result<Scenario, Error> {
    let costs = r
        .costs
        .iter()
        .enumerate()
        .map(|(i, cost)| {
            Ok(Cost {
                label: cost.label.clone(),
                amount: money(&format!("costs[{i}].amount"), cost.amount.as_ref())?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Scenario {
        id: required_uuid("scenario_id", &r.scenario_id)?,
        name: r.name.clone(),
        price: money("price", r.price.as_ref())?,
        costs,
        financing: r.financing.as_ref().map(financing).transpose()?,
    })
}

fn financing(f: &pb::Financing) -> Result<Financing, Error> {
    Ok(Financing {
        loan: money("financing.loan", f.loan.as_ref())?,
        annual_rate_bp: f.annual_rate_bp,
        term_months: f.term_months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_accepts_0_to_100_and_absence() {
        assert_eq!(probability(None), Ok(None));
        assert_eq!(probability(Some(0)), Ok(Some(0)));
        assert_eq!(probability(Some(100)), Ok(Some(100)));
    }

    #[test]
    fn probability_above_100_names_its_field() {
        for pct in [101, 256, u32::MAX] {
            match probability(Some(pct)) {
                Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "probability_pct"),
                other => panic!("{pct}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_unspecified_stage_is_invalid() {
        assert!(matches!(
            stage(pb::Stage::Unspecified),
            Err(Error::InvalidArgument { field, .. }) if field == "stage"
        ));
        assert_eq!(stage(pb::Stage::UnderContract), Ok(Stage::UnderContract));
    }

    #[test]
    fn every_stage_round_trips() {
        for s in Stage::ALL {
            assert_eq!(stage(stage_to_proto(s)), Ok(s));
        }
    }

    #[test]
    fn a_scenario_names_the_cost_it_rejects() {
        let request = pb::ScenarioRequest {
            scenario_id: "0190a4d2-5b6c-7d8e-9f00-112233445566".to_owned(),
            name: "base".to_owned(),
            price: Some(deedlog_proto::common::v1::Money {
                amount_minor: 100,
                currency: "EUR".to_owned(),
            }),
            costs: vec![pb::Cost {
                label: "notary".to_owned(),
                amount: None,
            }],
            ..Default::default()
        };
        assert!(matches!(
            scenario(&request),
            Err(Error::InvalidArgument { field, .. }) if field == "costs[0].amount"
        ));
    }
}
