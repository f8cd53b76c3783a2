//! The figures of issue 21's screens, read through GraphQL from a tenant
//! seeded through GraphQL: a deal's scenarios with the deals context's own
//! figures, the funnel and the leaderboard of a period, the pipeline over
//! days, weeks and months, and every bad argument refused in words.

use crate::World;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use deedlog_deals_domain::{figures, Cost, Financing, Scenario};
use deedlog_kernel::money::{Currency, Money};
use deedlog_proto::tenancy::v1::Role;
use deedlog_tests::Session;
use serde_json::{json, Value};
use uuid::Uuid;

const OPEN_DEAL: &str = "mutation($k: UUID!, $input: OpenDealInput!) { openDeal(command: {idempotencyKey: $k}, input: $input) { recordId position } }";
const MOVE: &str = "mutation($k: UUID!, $d: UUID!, $s: DealStage!) { moveStage(command: {idempotencyKey: $k}, dealId: $d, stage: $s) { position } }";
const WIN: &str = "mutation($k: UUID!, $d: UUID!, $p: Int64!) { winDeal(command: {idempotencyKey: $k}, dealId: $d, finalPrice: {amountMinor: $p, currency: \"EUR\"}) { position } }";
const LOSE: &str = "mutation($k: UUID!, $d: UUID!) { loseDeal(command: {idempotencyKey: $k}, dealId: $d, reason: \"bought elsewhere\") { position } }";
const ADD_SCENARIO: &str = "mutation($k: UUID!, $d: UUID!, $s: ScenarioInput!) { addScenario(command: {idempotencyKey: $k}, dealId: $d, scenario: $s) { position } }";
const REMOVE_SCENARIO: &str = "mutation($k: UUID!, $d: UUID!, $s: UUID!) { removeScenario(command: {idempotencyKey: $k}, dealId: $d, scenarioId: $s) { position } }";
const SET_PROBABILITY: &str = "mutation($k: UUID!, $d: UUID!, $p: Int) { setProbability(command: {idempotencyKey: $k}, dealId: $d, probabilityPct: $p) { position } }";

/// A seeded tenant: its world, its admin, and the last log position written.
struct Seeded {
    w: World,
    admin: Session,
    position: String,
}

impl Seeded {
    async fn new(slug: &str) -> Self {
        let (w, admin) = World::with_tenant(slug).await;
        Self {
            w,
            admin,
            position: "0".into(),
        }
    }

    /// Runs `mutation` (its one field) as `user` and remembers its position.
    async fn run(&mut self, user: &Session, mutation: &str, mut variables: Value) -> Value {
        variables["k"] = json!(Uuid::now_v7());
        let answer = self.w.gql.run_as(user, mutation, variables).await;
        let data = answer.data().as_object().expect("an object").clone();
        let (_, result) = data.into_iter().next().expect("one field");
        self.position = result["position"].as_str().expect("a position").to_owned();
        result
    }

    /// Opens a deal as `agent` with an offer and a commission in EUR.
    async fn open(&mut self, agent: &Session, offer: i64, commission: Option<i64>) -> Value {
        let property = self.w.property_id(&self.admin).await;
        let buyer = self.w.contact_id(&self.admin, "Ben Buyer").await;
        let mut input = json!({"propertyId": property, "buyerContactId": buyer,
                               "offer": {"amountMinor": offer, "currency": "EUR"}});
        if let Some(c) = commission {
            input["commission"] = json!({"amountMinor": c, "currency": "EUR"});
        }
        self.run(agent, OPEN_DEAL, json!({"input": input})).await["recordId"].clone()
    }

    async fn move_to(&mut self, user: &Session, deal: &Value, stages: &[&str]) {
        for stage in stages {
            self.run(user, MOVE, json!({"d": deal, "s": stage})).await;
        }
    }

    /// `selection` read as `user` once every read model has the last write.
    async fn read(&self, user: &Session, variables: &str, selection: &str, vars: Value) -> Value {
        let query = format!(
            "query({variables}) {{ atLeast(position: \"{}\", timeoutMs: 10000) {{ {selection} }} }}",
            self.position
        );
        self.w.gql.run_as(user, &query, vars).await.data()["atLeast"].clone()
    }

    /// When `deal` entered its `n`th stage (0: its opening), as its stage
    /// history says.
    async fn changed_at(&self, deal: &Value, n: usize) -> DateTime<Utc> {
        let read = self
            .read(
                &self.admin,
                "$d: UUID!",
                "deal(id: $d) { stageHistory { changedAt } }",
                json!({"d": deal}),
            )
            .await;
        let at = read["deal"]["stageHistory"][n]["changedAt"]
            .as_str()
            .expect("a stage change");
        DateTime::parse_from_rfc3339(at)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    }
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

fn money(minor: Option<Money>) -> Value {
    minor.map_or(Value::Null, |m| json!(m.amount_minor.to_string()))
}

/// What GraphQL shows for `scenario` at `probability_pct`: its inputs as
/// given and the deals context's own figures.
fn shown(scenario: &Scenario, probability_pct: u8) -> Value {
    let f = figures(scenario, probability_pct).expect("figures within the bounds");
    json!({
        "scenarioId": scenario.id,
        "name": scenario.name,
        "currency": "EUR",
        "priceMinor": scenario.price.amount_minor.to_string(),
        "costs": scenario.costs.iter().map(|c| json!({"label": c.label, "amountMinor": c.amount.amount_minor.to_string()})).collect::<Vec<_>>(),
        "financing": scenario.financing.map(|f| json!({"loanMinor": f.loan.amount_minor.to_string(), "annualRateBp": f.annual_rate_bp, "termMonths": f.term_months})),
        "figures": {
            "totalCostsMinor": money(Some(f.total_costs)),
            "monthlyPaymentMinor": money(f.monthly_payment),
            "totalInterestMinor": money(Some(f.total_interest)),
            "equityNeededMinor": money(Some(f.equity_needed)),
            "probabilityPct": f.probability_pct,
            "expectedValueMinor": money(Some(f.expected_value)),
        }
    })
}

/// The scenario as `addScenario` takes it.
fn input(scenario: &Scenario) -> Value {
    json!({
        "scenarioId": scenario.id,
        "name": scenario.name,
        "price": {"amountMinor": scenario.price.amount_minor, "currency": "EUR"},
        "costs": scenario.costs.iter().map(|c| json!({"label": c.label, "amount": {"amountMinor": c.amount.amount_minor, "currency": "EUR"}})).collect::<Vec<_>>(),
        "financing": scenario.financing.map(|f| json!({"loan": {"amountMinor": f.loan.amount_minor, "currency": "EUR"}, "annualRateBp": f.annual_rate_bp, "termMonths": f.term_months})),
    })
}

const SCENARIOS: &str = "scenarioCount scenarios { scenarioId name currency priceMinor costs { label amountMinor } financing { loanMinor annualRateBp termMonths } figures { totalCostsMinor monthlyPaymentMinor totalInterestMinor equityNeededMinor probabilityPct expectedValueMinor } }";

#[tokio::test]
async fn a_deals_scenarios_show_the_deals_contexts_own_figures_at_its_probability() {
    let mut s = Seeded::new("berg").await;
    let admin = s.admin.clone();
    let deal = s.open(&admin, 40_000_000, None).await;
    let bare = s.open(&admin, 10_000_000, None).await;
    let financed = Scenario {
        id: Uuid::now_v7(),
        name: "Financed".into(),
        price: eur(45_000_000),
        costs: vec![
            Cost {
                label: "Notary".into(),
                amount: eur(1_230_000),
            },
            Cost {
                label: "Transfer tax".into(),
                amount: eur(2_700_001),
            },
        ],
        financing: Some(Financing {
            loan: eur(36_000_000),
            annual_rate_bp: 365,
            term_months: 360,
        }),
    };
    let cash = Scenario {
        id: Uuid::now_v7(),
        name: "Cash".into(),
        price: eur(44_000_000),
        costs: vec![],
        financing: None,
    };
    let dropped = Scenario {
        id: Uuid::now_v7(),
        name: "Dropped".into(),
        ..cash.clone()
    };
    for scenario in [&financed, &cash, &dropped] {
        let variables = json!({"d": deal, "s": input(scenario)});
        s.run(&admin, ADD_SCENARIO, variables).await;
    }
    s.run(&admin, REMOVE_SCENARIO, json!({"d": deal, "s": dropped.id}))
        .await;

    let selection = format!("a: deal(id: $a) {{ {SCENARIOS} }} b: deal(id: $b) {{ {SCENARIOS} }}");
    let both = json!({"a": deal, "b": bare});
    // At the lead stage's default probability, 5 %.
    let read = s
        .read(&admin, "$a: UUID!, $b: UUID!", &selection, both.clone())
        .await;
    assert_eq!(
        read["a"],
        json!({"scenarioCount": 2, "scenarios": [shown(&financed, 5), shown(&cash, 5)]})
    );
    assert_eq!(read["b"], json!({"scenarioCount": 0, "scenarios": []}));

    // An explicit probability rewrites every figure.
    s.run(&admin, SET_PROBABILITY, json!({"d": deal, "p": 35}))
        .await;
    let read = s
        .read(&admin, "$a: UUID!, $b: UUID!", &selection, both)
        .await;
    assert_eq!(
        read["a"]["scenarios"],
        json!([shown(&financed, 35), shown(&cash, 35)])
    );
    // Worked by hand for the cash scenario: 44,000,000 × 35 % and no loan.
    assert_eq!(
        read["a"]["scenarios"][1]["figures"],
        json!({"totalCostsMinor": "0", "monthlyPaymentMinor": null, "totalInterestMinor": "0",
               "equityNeededMinor": "44000000", "probabilityPct": 35, "expectedValueMinor": "15400000"})
    );
}

/// Whole seconds from `from` to `to`, rounded down.
fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds()
}

fn stage(name: &str, reached: i64, entries: i64, exits: i64, total: i64) -> Value {
    json!({"stage": name, "dealsReached": reached, "entries": entries, "exits": exits,
           "totalSeconds": total, "avgSeconds": if exits > 0 { json!(total / exits) } else { Value::Null }})
}

fn standing(
    agent: &Session,
    won: i64,
    volume: i64,
    commission: i64,
    lost: i64,
    open: i64,
) -> Value {
    json!({"agentId": agent.user_id, "currency": "EUR", "dealsWon": won,
           "wonVolumeMinor": volume.to_string(), "commissionMinor": commission.to_string(),
           "dealsLost": lost, "openDeals": open})
}

const FUNNEL: &str = "stage dealsReached entries exits totalSeconds avgSeconds";
const STANDING: &str =
    "agentId currency dealsWon wonVolumeMinor commissionMinor dealsLost openDeals";
const TO_CONTRACT: [&str; 5] = [
    "QUALIFIED",
    "VIEWING",
    "OFFER",
    "NEGOTIATION",
    "UNDER_CONTRACT",
];

#[tokio::test]
async fn the_funnel_and_the_leaderboard_of_a_period_count_what_happened_in_it() {
    let mut s = Seeded::new("berg").await;
    let admin = s.admin.clone();
    let ada = s.w.colleague(&admin, Role::Agent, "ada").await;
    let ben = s.w.colleague(&admin, Role::Agent, "ben").await;

    // Before the period: four deals open, two of them under contract.
    let d1 = s.open(&ada, 10_000_000, Some(300_000)).await;
    s.move_to(&ada, &d1, &TO_CONTRACT).await;
    let d2 = s.open(&ben, 20_000_000, Some(500_000)).await;
    let d3 = s.open(&ada, 5_000_000, None).await;
    let d4 = s.open(&ben, 7_000_000, None).await;
    s.move_to(&ben, &d4, &TO_CONTRACT).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The period: d3 qualifies, d1 is won, d2 is lost.
    s.move_to(&ada, &d3, &["QUALIFIED"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    s.run(&ada, WIN, json!({"d": d1, "p": 9_800_000})).await;
    s.run(&ben, LOSE, json!({"d": d2})).await;
    // After it: d3 moves on (at `to`, excluded), d4 is won.
    s.move_to(&ada, &d3, &["VIEWING"]).await;
    s.run(&ben, WIN, json!({"d": d4, "p": 6_900_000})).await;

    let from = s.changed_at(&d3, 1).await;
    let to = s.changed_at(&d3, 2).await;
    let (d1_contract, d1_won) = (s.changed_at(&d1, 5).await, s.changed_at(&d1, 6).await);
    let (d2_open, d2_lost) = (s.changed_at(&d2, 0).await, s.changed_at(&d2, 1).await);
    let d3_open = s.changed_at(&d3, 0).await;
    assert!(from < d1_won && d1_won <= d2_lost && d2_lost < to);

    let period = json!({"from": from, "to": to});
    let vars = "$from: DateTime, $to: DateTime";
    let funnel = s
        .read(
            &admin,
            vars,
            &format!("funnel(from: $from, to: $to) {{ {FUNNEL} }}"),
            period.clone(),
        )
        .await;
    let lead_stays = seconds(d3_open, from) + seconds(d2_open, d2_lost);
    assert!(lead_stays >= 2, "the sleeps make whole seconds");
    assert_eq!(
        funnel["funnel"],
        json!([
            stage("lead", 0, 0, 2, lead_stays),
            stage("qualified", 1, 1, 0, 0),
            stage("under_contract", 0, 0, 1, seconds(d1_contract, d1_won)),
            stage("closed_won", 1, 1, 0, 0),
            stage("closed_lost", 1, 1, 0, 0),
        ])
    );

    let board = |first: &str| format!("leaderboard(from: $from, to: $to{first}) {{ {STANDING} }}");
    let read = s.read(&admin, vars, &board(""), period.clone()).await;
    assert_eq!(
        read["leaderboard"],
        json!([
            standing(&ada, 1, 9_800_000, 300_000, 0, 1),
            standing(&ben, 0, 0, 0, 1, 0),
        ])
    );
    let read = s
        .read(&admin, vars, &board(", first: 1"), period.clone())
        .await;
    assert_eq!(
        read["leaderboard"],
        json!([standing(&ada, 1, 9_800_000, 300_000, 0, 1)])
    );

    // All time, without a period, from the analytics tables: d4 counts too.
    let read = s
        .read(
            &admin,
            "",
            &format!("leaderboard {{ {STANDING} }} top: leaderboard(first: 1) {{ agentId }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        read["leaderboard"],
        json!([
            standing(&ada, 1, 9_800_000, 300_000, 0, 1),
            standing(&ben, 1, 6_900_000, 0, 1, 0),
        ])
    );
    assert_eq!(read["top"], json!([{"agentId": ada.user_id}]));

    // A period holding every event gives the all-time funnel; an empty one nothing.
    let ever = json!({"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"});
    let both =
        format!("all: funnel {{ {FUNNEL} }} ever: funnel(from: $from, to: $to) {{ {FUNNEL} }}");
    let read = s.read(&admin, vars, &both, ever).await;
    assert_eq!(read["ever"], read["all"]);
    assert_eq!(read["all"][0]["entries"], 4, "{}", read["all"]);
    let empty = json!({"from": to, "to": to});
    let selection = format!("funnel(from: $from, to: $to) {{ stage }} {}", board(""));
    let read = s.read(&admin, vars, &selection, empty).await;
    assert_eq!(read, json!({"funnel": [], "leaderboard": []}));
}

/// The Monday of `day`'s week.
fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The first of `day`'s month.
fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first")
}

/// A step of the calendar: from a day to the first day of its interval, or
/// from an interval's first day to the next one's.
type Calendar = fn(NaiveDate) -> NaiveDate;

/// The points a series over `from`..=`to` has, each interval's first and
/// last day (or `to`), worked out with the calendar.
fn expected_points(
    from: NaiveDate,
    to: NaiveDate,
    start_of: Calendar,
    next: Calendar,
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut points = Vec::new();
    let mut start = start_of(from);
    while start <= to {
        let following = next(start);
        points.push((start, (following - Duration::days(1)).min(to)));
        start = following;
    }
    points
}

#[tokio::test]
async fn the_pipeline_series_takes_the_pipeline_at_the_end_of_every_day_week_and_month() {
    let mut s = Seeded::new("berg").await;
    let admin = s.admin.clone();
    s.open(&admin, 10_000_000, None).await;
    let moved = s.open(&admin, 20_000_000, None).await;
    s.move_to(&admin, &moved, &["QUALIFIED"]).await;
    let today = s.changed_at(&moved, 1).await.date_naive();
    assert_eq!(
        s.changed_at(&moved, 0).await.date_naive(),
        today,
        "the test ran across midnight UTC"
    );
    // Lead at 5 %, qualified at 10 %.
    let pipeline = json!([
        {"day": today, "stage": "lead", "currency": "EUR", "dealCount": 1,
         "offerTotalMinor": "10000000", "weightedTotalMinor": "500000"},
        {"day": today, "stage": "qualified", "currency": "EUR", "dealCount": 1,
         "offerTotalMinor": "20000000", "weightedTotalMinor": "2000000"},
    ]);
    let series = "pipelineSeries(from: $from, to: $to, interval: $i) { start at stages { day stage currency dealCount offerTotalMinor weightedTotalMinor } }";
    let cases: [(&str, NaiveDate, NaiveDate, Calendar, Calendar); 3] = [
        (
            "DAY",
            today - Duration::days(2),
            today + Duration::days(1),
            |d| d,
            |d| d + Duration::days(1),
        ),
        ("WEEK", today - Duration::days(10), today, monday, |d| {
            d + Duration::days(7)
        }),
        (
            "MONTH",
            today - Duration::days(40),
            today + Duration::days(3),
            first_of_month,
            |d| {
                (d + Duration::days(31))
                    .with_day(1)
                    .expect("a first of the month")
            },
        ),
    ];
    for (interval, from, to, start_of, next) in cases {
        let expected: Vec<Value> = expected_points(from, to, start_of, next)
            .into_iter()
            .map(|(start, at)| {
                let stages = if at >= today {
                    pipeline.clone()
                } else {
                    json!([])
                };
                json!({"start": start, "at": at, "stages": stages})
            })
            .collect();
        assert!(
            expected.len() >= 2,
            "{interval}: points before and after today"
        );
        let read = s
            .read(
                &admin,
                "$from: NaiveDate!, $to: NaiveDate!, $i: SeriesInterval!",
                series,
                json!({"from": from, "to": to, "i": interval}),
            )
            .await;
        assert_eq!(read["pipelineSeries"], json!(expected), "{interval}");
    }
}

#[tokio::test]
async fn bad_period_and_series_arguments_are_refused_in_words() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let cases = [
        ("{ pipelineSeries(from: \"2026-02-01\", to: \"2026-01-01\", interval: DAY) { at } }",
         "`from` (2026-02-01) is after `to` (2026-01-01)"),
        ("{ pipelineSeries(from: \"2025-01-01\", to: \"2026-01-02\", interval: DAY) { at } }",
         "invalid `interval`: 2025-01-01 to 2026-01-02 by day makes 367 points, more than the 366 a series may have; ask for a shorter range or a longer interval"),
        ("{ pipelineSeries(from: \"1990-01-01\", to: \"2026-01-01\", interval: MONTH) { at } }",
         "invalid `interval`"),
        ("{ pipelineSeries(from: \"2026-01-01\", to: \"2026-02-01\", interval: YEAR) { at } }",
         "\"interval\""),
        ("{ pipelineSeries(from: \"2026-01-01\", to: \"2026-02-01\") { at } }",
         "\"interval\""),
        ("{ pipelineSeries(from: \"January\", to: \"2026-02-01\", interval: DAY) { at } }",
         "Failed to parse \"NaiveDate\""),
        ("{ funnel(from: \"2026-01-01T00:00:00Z\") { stage } }",
         "`from` needs `to`: give both for a period, or neither for all time"),
        ("{ funnel(to: \"2026-01-01T00:00:00Z\") { stage } }",
         "`to` needs `from`: give both for a period, or neither for all time"),
        ("{ funnel(from: \"2026-01-02T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { stage } }",
         "`from` (2026-01-02T00:00:00+00:00) is after `to` (2026-01-01T00:00:00+00:00)"),
        ("{ funnel(from: \"yesterday\", to: \"2026-01-01T00:00:00Z\") { stage } }",
         "Failed to parse \"DateTime\""),
        ("{ leaderboard(from: \"2026-01-01T00:00:00Z\") { agentId } }",
         "`from` needs `to`"),
        ("{ leaderboard(from: \"2026-01-02T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { agentId } }",
         "is after `to`"),
        ("{ leaderboard(first: 0) { agentId } }", "`first` must be 1 to 100"),
        ("{ leaderboard(first: 101, from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\") { agentId } }",
         "`first` must be 1 to 100"),
    ];
    for (query, text) in cases {
        w.gql
            .refused_as(&admin, query, json!({}), "BAD_USER_INPUT", text)
            .await;
    }
    // The role is checked first: an agent reads no analytics at all.
    let agent = w.colleague(&admin, Role::Agent, "ada").await;
    w.gql
        .refused_as(
            &agent,
            "{ funnel(from: \"2026-01-02T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { stage } }",
            json!({}),
            "FORBIDDEN",
            "analytics",
        )
        .await;
}
