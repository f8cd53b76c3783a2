//! Histories and inputs shared by the scenario tests.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use deedlog_deals_domain::stage::OPEN;
use deedlog_deals_domain::{
    Action, Command, Cost, Deals, Event, Financing, Scenario, Stage, State,
};
use deedlog_kernel::{replay, Currency, Money, UserId};
use uuid::Uuid;

pub fn when(action: Action) -> Command {
    Command {
        at: Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("time"),
        action,
    }
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::new("USD").expect("USD"))
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x5ce0_0000 + n)
}

/// A deal opened with an offer of 400,000.00 EUR.
pub fn opened() -> Event {
    Event::DealOpened {
        property: Uuid::from_u128(10),
        buyer: Uuid::from_u128(20),
        agent: UserId::from_uuid(Uuid::from_u128(1)),
        offer: Some(eur(40_000_000)),
        commission: None,
        expected_close: NaiveDate::from_ymd_opt(2027, 3, 1),
    }
}

/// A deal walked forward to `stage` one step at a time.
pub fn at_stage(stage: Stage) -> Vec<Event> {
    walked(opened(), stage)
}

/// The deal that `opened` opens, walked forward to `stage` one step at a time.
pub fn walked(opened: Event, stage: Stage) -> Vec<Event> {
    let end = OPEN
        .iter()
        .position(|s| *s == stage)
        .expect("an open stage");
    let mut events = vec![opened];
    events.extend(OPEN[..=end].windows(2).map(|w| Event::StageMoved {
        from: w[0],
        to: w[1],
    }));
    events
}

pub fn state(events: &[Event]) -> State {
    replay::<Deals>(events)
}

pub fn cost(label: &str, amount: Money) -> Cost {
    Cost {
        label: label.into(),
        amount,
    }
}

pub fn loan(amount: Money, annual_rate_bp: u32, term_months: u32) -> Option<Financing> {
    Some(Financing {
        loan: amount,
        annual_rate_bp,
        term_months,
    })
}

/// The inputs of a scenario: the deal's own `Scenario`, turned into its
/// command or its event by `ScenarioFixture`.
pub type Inputs = Scenario;

/// "Base": 400,000.00 EUR, notary and transfer tax, 300,000.00 at 3.5% over 30 years.
pub fn base() -> Inputs {
    Inputs {
        id: id(1),
        name: "Base".into(),
        price: eur(40_000_000),
        costs: vec![
            cost("Notary", eur(1_200_000)),
            cost("Transfer tax", eur(2_400_000)),
        ],
        financing: loan(eur(30_000_000), 350, 360),
    }
}

/// Builds a scenario command or event variant from the scenario's fields.
macro_rules! scenario_variant {
    ($scenario:expr, $variant:path) => {{
        let s = $scenario;
        $variant {
            scenario_id: s.id,
            name: s.name,
            price: s.price,
            costs: s.costs,
            financing: s.financing,
        }
    }};
}

pub trait ScenarioFixture {
    fn add(self) -> Action;
    fn update(self) -> Action;
    fn added(self) -> Event;
    fn updated(self) -> Event;
}

impl ScenarioFixture for Scenario {
    fn add(self) -> Action {
        scenario_variant!(self, Action::AddScenario)
    }

    fn update(self) -> Action {
        scenario_variant!(self, Action::UpdateScenario)
    }

    fn added(self) -> Event {
        scenario_variant!(self, Event::ScenarioAdded)
    }

    fn updated(self) -> Event {
        scenario_variant!(self, Event::ScenarioUpdated)
    }
}
