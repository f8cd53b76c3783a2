//! The deals read model holds what the events say, and what the deals
//! context's own state says: every history here is made by the domain's
//! `decide`, folded with its `evolve`, and the rows are compared with that
//! state.

use crate::support::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use deedlog_deals_domain::decide::decide;
use deedlog_deals_domain::state::evolve;
use deedlog_deals_domain::{Action, Command, Cost, Deal, Event, Financing, Stage, State};
use deedlog_kernel::{Currency, Money, StreamId, TenantId, UserId};
use deedlog_projector::projections::deals::Deals;
use deedlog_projector::{rebuild, Projection, Projector};
use deedlog_read_model::deals::{DealRow, ScenarioRow};
use deedlog_read_model::Int64;
use std::sync::Arc;
use uuid::Uuid;

/// One deal's stream: commands decided by the domain, appended, and folded
/// into the state the read model must agree with.
struct DealLog {
    tenant: TenantId,
    stream: StreamId,
    state: State,
    actor: String,
}

impl DealLog {
    fn new(tenant: TenantId) -> Self {
        Self {
            tenant,
            stream: new_stream(),
            state: State::default(),
            actor: format!("user:{}", Uuid::now_v7()),
        }
    }

    fn id(&self) -> Uuid {
        self.stream.as_uuid()
    }

    fn deal(&self) -> &Deal {
        self.state.0.as_ref().expect("the deal was opened")
    }

    /// The events the domain decides for `action`, without appending them.
    fn decide(&self, action: Action, at: DateTime<Utc>) -> Option<Vec<Event>> {
        decide(&self.state, &Command { at, action }).ok()
    }

    /// Decides `action` at `at`, appends what it records (it must be
    /// accepted) and returns the last position.
    async fn run(&mut self, db: &TestDb, action: Action, at: DateTime<Utc>) -> u64 {
        let events = self.decide(action.clone(), at).unwrap_or_else(|| {
            panic!("{action:?} is accepted");
        });
        assert!(!events.is_empty(), "{action:?} changes the deal");
        self.record(db, &events, at).await
    }

    /// Appends `events` as they are and folds them.
    async fn record(&mut self, db: &TestDb, events: &[Event], at: DateTime<Utc>) -> u64 {
        for event in events {
            self.state = evolve(std::mem::take(&mut self.state), event);
        }
        db.append_to(
            self.tenant,
            self.stream,
            "deal",
            events,
            metadata_by(self.tenant, &self.actor, at),
        )
        .await
    }
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("instant")
        + Duration::minutes(minutes)
}

fn open(offer: Option<i64>) -> Action {
    Action::Open {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent: UserId::from_uuid(Uuid::now_v7()),
        offer: offer.map(eur),
        commission: offer.map(|o| eur(o * 3 / 100)),
        expected_close: NaiveDate::from_ymd_opt(2027, 3, 31),
    }
}

fn lose(reason: &str) -> Action {
    Action::Lose {
        reason: reason.into(),
    }
}

/// Adds scenario `id` named `name` at `price` (minor units, as `eur`).
fn add_scenario(
    id: Uuid,
    name: &str,
    price: i64,
    costs: Vec<Cost>,
    financing: Option<Financing>,
) -> Action {
    Action::AddScenario {
        scenario_id: id,
        name: name.into(),
        price: eur(price),
        costs,
        financing,
    }
}

async fn row(db: &TestDb, deal: Uuid) -> DealRow {
    let json: sqlx::types::Json<DealRow> =
        sqlx::query_scalar("SELECT to_jsonb(d) FROM rm_deals.deals d WHERE deal_id = $1")
            .bind(deal)
            .fetch_one(&db.pool)
            .await
            .expect("deal row");
    json.0
}

async fn scenarios(db: &TestDb, deal: Uuid) -> Vec<ScenarioRow> {
    let json: Vec<sqlx::types::Json<ScenarioRow>> = sqlx::query_scalar(
        "SELECT to_jsonb(s) FROM rm_deals.scenarios s WHERE deal_id = $1 ORDER BY added_position",
    )
    .bind(deal)
    .fetch_all(&db.pool)
    .await
    .expect("scenario rows");
    json.into_iter().map(|j| j.0).collect()
}

/// The deal's row and scenario rows say what the domain's state says.
async fn assert_agrees_with_domain(db: &TestDb, log: &DealLog) {
    let deal = log.deal();
    let row = row(db, log.id()).await;
    let minor = |m: Option<Money>| m.map(|m| m.amount_minor);
    let int64 = |m: Option<Money>| m.map(|m| Int64(m.amount_minor));
    assert_eq!(row.tenant_id, log.tenant.as_uuid());
    assert_eq!(row.property_id, deal.property);
    assert_eq!(row.buyer_contact_id, deal.buyer);
    assert_eq!(row.agent_id, deal.agent.as_uuid());
    assert_eq!(row.stage, deal.stage.as_str());
    assert_eq!(row.is_open, deal.stage.is_open());
    assert_eq!(row.last_open_stage, deal.last_open_stage.as_str());
    assert_eq!(
        row.currency.as_deref(),
        deal.currency().as_ref().map(Currency::code)
    );
    assert_eq!(row.offer_minor, int64(deal.offer));
    assert_eq!(row.commission_minor, int64(deal.commission));
    assert_eq!(row.probability_pct, i32::from(deal.probability_pct()));
    assert_eq!(
        row.probability_explicit,
        deal.probability_override.is_some()
    );
    assert_eq!(row.expected_value_minor, int64(deal.expected_value()));
    assert_eq!(row.expected_close, deal.expected_close);
    assert_eq!(row.final_price_minor, int64(deal.final_price));
    assert_eq!(row.lost_reason, deal.lost_reason);
    assert_eq!(row.scenario_count, deal.scenarios.len() as i32);
    let stored = scenarios(db, log.id()).await;
    let ids: Vec<Uuid> = stored.iter().map(|s| s.scenario_id).collect();
    let kept: Vec<Uuid> = deal.scenarios.iter().map(|s| s.id).collect();
    assert_eq!(ids, kept, "the deal's scenarios in order of addition");
    for (s, kept) in stored.iter().zip(&deal.scenarios) {
        let figures = deal.scenario_figures(kept.id);
        assert_eq!(s.name, kept.name);
        assert_eq!(s.price_minor, kept.price.amount_minor);
        assert_eq!(s.currency, kept.price.currency.code());
        let costs: Vec<Cost> = serde_json::from_value(s.costs.clone()).expect("costs");
        assert_eq!(costs, kept.costs);
        assert_eq!(s.loan_minor, kept.financing.map(|f| f.loan.amount_minor));
        assert_eq!(
            s.annual_rate_bp,
            kept.financing
                .map(|f| i32::try_from(f.annual_rate_bp).expect("a rate"))
        );
        assert_eq!(
            s.term_months,
            kept.financing
                .map(|f| i32::try_from(f.term_months).expect("a term"))
        );
        assert_eq!(s.total_costs_minor, minor(figures.map(|f| f.total_costs)));
        assert_eq!(
            s.monthly_payment_minor,
            minor(figures.and_then(|f| f.monthly_payment))
        );
        assert_eq!(
            s.total_interest_minor,
            minor(figures.map(|f| f.total_interest))
        );
        assert_eq!(
            s.equity_needed_minor,
            minor(figures.map(|f| f.equity_needed))
        );
        assert_eq!(s.probability_pct, i32::from(deal.probability_pct()));
        assert_eq!(
            s.expected_value_minor,
            minor(figures.map(|f| f.expected_value))
        );
    }
}

/// What a step expects of the deal's row.
type Check = Box<dyn Fn(&DealRow)>;

/// A fresh database with a tenant, and a deals projector reading `batch`
/// events at a time.
async fn start(batch: u32) -> (TestDb, TenantId, Projector) {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let projector = db.projector(Arc::new(Deals), batch).await;
    (db, tenant, projector)
}

/// Projects what is in the log and checks the deal's row against the
/// domain's state.
async fn caught_up(db: &TestDb, projector: &mut Projector, log: &DealLog) {
    catch_up(projector).await;
    assert_agrees_with_domain(db, log).await;
}

/// (kind, from, to, changed_at, changed_by) of a deal's stage changes.
async fn stage_history(
    db: &TestDb,
    deal: Uuid,
) -> Vec<(String, Option<String>, String, DateTime<Utc>, String)> {
    sqlx::query_as(
        "SELECT kind, from_stage, to_stage, changed_at, changed_by FROM rm_deals.stage_history \
         WHERE deal_id = $1 ORDER BY position",
    )
    .bind(deal)
    .fetch_all(&db.pool)
    .await
    .expect("stage history")
}

fn change(
    kind: &str,
    from: Option<&str>,
    to: &str,
    at: DateTime<Utc>,
    by: &str,
) -> (String, Option<String>, String, DateTime<Utc>, String) {
    (
        kind.to_owned(),
        from.map(str::to_owned),
        to.to_owned(),
        at,
        by.to_owned(),
    )
}

#[tokio::test]
async fn each_event_shapes_the_deal_row_as_the_domain_state() {
    let (db, tenant, mut projector) = start(100).await;
    let mut log = DealLog::new(tenant);

    log.run(&db, open(Some(40_000_000)), at(0)).await;
    caught_up(&db, &mut projector, &log).await;
    let opened = row(&db, log.id()).await;
    assert_eq!(opened.stage, "lead");
    assert!(opened.is_open);
    assert_eq!(opened.currency.as_deref(), Some("EUR"));
    assert_eq!(opened.offer_minor, Some(Int64(40_000_000)));
    assert_eq!(opened.commission_minor, Some(Int64(1_200_000)));
    assert_eq!(
        (opened.probability_pct, opened.probability_explicit),
        (5, false)
    );
    assert_eq!(opened.expected_value_minor, Some(Int64(2_000_000)));
    assert_eq!(opened.expected_close, NaiveDate::from_ymd_opt(2027, 3, 31));
    assert_eq!(
        (opened.version, opened.reopened_count, opened.scenario_count),
        (Int64(1), 0, 0)
    );
    assert_eq!(
        (
            opened.created_at,
            opened.updated_at,
            opened.stage_entered_at
        ),
        (at(0), at(0), at(0))
    );

    let steps: Vec<(Action, Check)> = vec![
        (
            Action::MoveStage(Stage::Qualified),
            Box::new(|r| {
                assert_eq!((r.stage.as_str(), r.probability_pct), ("qualified", 10));
                assert_eq!(r.expected_value_minor, Some(Int64(4_000_000)));
                assert_eq!(r.stage_entered_at, at(1));
            }),
        ),
        (
            Action::SetProbability(Some(75)),
            Box::new(|r| {
                assert_eq!((r.probability_pct, r.probability_explicit), (75, true));
                assert_eq!(r.expected_value_minor, Some(Int64(30_000_000)));
                assert_eq!(r.stage_entered_at, at(1), "no stage change");
            }),
        ),
        (
            Action::SetOffer(eur(41_000_001)),
            Box::new(|r| {
                assert_eq!(r.offer_minor, Some(Int64(41_000_001)));
                // 41,000,001 × 75% = 30,750,000.75: the explicit probability still holds.
                assert_eq!(r.expected_value_minor, Some(Int64(30_750_001)));
            }),
        ),
        (
            Action::MoveStage(Stage::Viewing),
            Box::new(|r| {
                assert_eq!(
                    (r.stage.as_str(), r.probability_pct, r.probability_explicit),
                    ("viewing", 20, false),
                    "a stage change resets the explicit probability"
                );
                assert_eq!(r.expected_value_minor, Some(Int64(8_200_000)));
            }),
        ),
        (
            Action::SetProbability(Some(0)),
            Box::new(|r| {
                assert_eq!((r.probability_pct, r.probability_explicit), (0, true));
                assert_eq!(r.expected_value_minor, Some(Int64(0)));
            }),
        ),
        (
            Action::SetProbability(None),
            Box::new(|r| {
                assert_eq!((r.probability_pct, r.probability_explicit), (20, false));
            }),
        ),
        (
            Action::MoveStage(Stage::Qualified),
            Box::new(|r| {
                assert_eq!(
                    (r.stage.as_str(), r.last_open_stage.as_str()),
                    ("qualified", "qualified")
                );
            }),
        ),
        (
            Action::SetCommission(eur(1_500_000)),
            Box::new(|r| assert_eq!(r.commission_minor, Some(Int64(1_500_000)))),
        ),
        (
            Action::SetExpectedClose(None),
            Box::new(|r| assert_eq!(r.expected_close, None)),
        ),
        (
            Action::SetExpectedClose(NaiveDate::from_ymd_opt(2027, 5, 1)),
            Box::new(|r| assert_eq!(r.expected_close, NaiveDate::from_ymd_opt(2027, 5, 1))),
        ),
        (
            Action::Reassign(UserId::from_uuid(Uuid::from_u128(7))),
            Box::new(|r| assert_eq!(r.agent_id, Uuid::from_u128(7))),
        ),
    ];
    for (n, (action, check)) in steps.into_iter().enumerate() {
        let minute = n as i64 + 1;
        let head = log.run(&db, action, at(minute)).await;
        catch_up(&mut projector).await;
        let r = row(&db, log.id()).await;
        check(&r);
        assert_eq!(r.version, minute + 1);
        assert_eq!(r.last_position, head as i64);
        assert_eq!(r.updated_at, at(minute));
        assert_agrees_with_domain(&db, &log).await;
    }
    let actor = log.actor.clone();
    assert_eq!(
        stage_history(&db, log.id()).await,
        vec![
            change("opened", None, "lead", at(0), &actor),
            change("moved", Some("lead"), "qualified", at(1), &actor),
            change("moved", Some("qualified"), "viewing", at(4), &actor),
            change("moved", Some("viewing"), "qualified", at(7), &actor),
        ]
    );
}

#[tokio::test]
async fn won_lost_and_reopened_deals() {
    let (db, tenant, mut projector) = start(2).await;

    let mut won = DealLog::new(tenant);
    won.run(&db, open(Some(50_000_000)), at(0)).await;
    for (minute, stage) in [
        Stage::Qualified,
        Stage::Viewing,
        Stage::Offer,
        Stage::Negotiation,
        Stage::UnderContract,
    ]
    .into_iter()
    .enumerate()
    {
        won.run(&db, Action::MoveStage(stage), at(minute as i64 + 1))
            .await;
    }
    won.run(&db, Action::SetProbability(Some(95)), at(10)).await;
    won.run(
        &db,
        Action::Win {
            final_price: eur(51_000_000),
        },
        at(20),
    )
    .await;

    let mut lost = DealLog::new(tenant);
    lost.run(&db, open(None), at(0)).await;
    lost.run(&db, Action::MoveStage(Stage::Qualified), at(5))
        .await;
    lost.run(&db, Action::SetProbability(Some(30)), at(6)).await;
    lost.run(&db, lose("  Bought elsewhere "), at(30)).await;

    catch_up(&mut projector).await;
    assert_agrees_with_domain(&db, &won).await;
    assert_agrees_with_domain(&db, &lost).await;
    let w = row(&db, won.id()).await;
    assert_eq!((w.stage.as_str(), w.is_open), ("closed_won", false));
    assert_eq!(w.last_open_stage, "under_contract");
    assert_eq!(w.final_price_minor, Some(Int64(51_000_000)));
    assert_eq!(
        (w.probability_pct, w.probability_explicit),
        (100, false),
        "winning clears 95%"
    );
    assert_eq!(w.expected_value_minor, Some(Int64(50_000_000)));
    assert_eq!(
        (w.won_at, w.lost_at, w.closed_at),
        (Some(at(20)), None, Some(at(20)))
    );
    assert_eq!(w.stage_entered_at, at(20));
    let l = row(&db, lost.id()).await;
    assert_eq!((l.stage.as_str(), l.is_open), ("closed_lost", false));
    assert_eq!(l.lost_reason.as_deref(), Some("Bought elsewhere"));
    assert_eq!((l.probability_pct, l.probability_explicit), (0, false));
    assert_eq!(
        (l.offer_minor, l.expected_value_minor, l.currency),
        (None, None, None)
    );
    assert_eq!(
        (l.won_at, l.lost_at, l.closed_at),
        (None, Some(at(30)), Some(at(30)))
    );

    won.run(&db, Action::Reopen, at(40)).await;
    lost.run(&db, Action::Reopen, at(41)).await;
    catch_up(&mut projector).await;
    assert_agrees_with_domain(&db, &won).await;
    assert_agrees_with_domain(&db, &lost).await;
    let w = row(&db, won.id()).await;
    assert_eq!((w.stage.as_str(), w.is_open), ("under_contract", true));
    assert_eq!((w.probability_pct, w.probability_explicit), (90, false));
    assert_eq!(w.final_price_minor, None);
    assert_eq!((w.won_at, w.closed_at, w.reopened_count), (None, None, 1));
    assert_eq!(w.stage_entered_at, at(40));
    let l = row(&db, lost.id()).await;
    assert_eq!((l.stage.as_str(), l.probability_pct), ("qualified", 10));
    assert_eq!(
        (l.lost_reason, l.lost_at, l.closed_at, l.reopened_count),
        (None, None, None, 1)
    );

    // Lost once more, from the stage it returned to, and reopened again.
    lost.run(&db, lose("Withdrew"), at(50)).await;
    lost.run(&db, Action::Reopen, at(51)).await;
    catch_up(&mut projector).await;
    assert_agrees_with_domain(&db, &lost).await;
    assert_eq!(row(&db, lost.id()).await.reopened_count, 2);

    let actor = won.actor.clone();
    let history = stage_history(&db, won.id()).await;
    assert_eq!(history.len(), 8);
    assert_eq!(
        history[5..],
        [
            change(
                "moved",
                Some("negotiation"),
                "under_contract",
                at(5),
                &actor
            ),
            change("won", Some("under_contract"), "closed_won", at(20), &actor),
            change(
                "reopened",
                Some("closed_won"),
                "under_contract",
                at(40),
                &actor
            ),
        ]
    );
    let actor = lost.actor.clone();
    assert_eq!(
        stage_history(&db, lost.id()).await,
        vec![
            change("opened", None, "lead", at(0), &actor),
            change("moved", Some("lead"), "qualified", at(5), &actor),
            change("lost", Some("qualified"), "closed_lost", at(30), &actor),
            change("reopened", Some("closed_lost"), "qualified", at(41), &actor),
            change("lost", Some("qualified"), "closed_lost", at(50), &actor),
            change("reopened", Some("closed_lost"), "qualified", at(51), &actor),
        ]
    );
    // Time in each stage, as the funnel computes it from the history.
    let minutes: Vec<(String, Option<f64>)> = sqlx::query_as(
        "SELECT to_stage, extract(epoch FROM lead(changed_at) OVER w - changed_at)::float8 / 60 \
         FROM rm_deals.stage_history WHERE deal_id = $1 WINDOW w AS (ORDER BY position) ORDER BY position",
    )
    .bind(lost.id())
    .fetch_all(&db.pool)
    .await
    .expect("time in stage");
    assert_eq!(minutes[1], ("qualified".to_owned(), Some(25.0)));
    assert_eq!(minutes[5], ("qualified".to_owned(), None), "still there");
}

/// A deal opened at `start` with `offer` that then takes `path`, a minute a step.
async fn deal_along(
    db: &TestDb,
    tenant: TenantId,
    offer: Option<i64>,
    path: Vec<Action>,
    start: i64,
) -> DealLog {
    let mut log = DealLog::new(tenant);
    log.run(db, open(offer), at(start)).await;
    for (n, action) in path.into_iter().enumerate() {
        log.run(db, action, at(start + n as i64 + 1)).await;
    }
    log
}

#[tokio::test]
async fn the_pipeline_board_sums_offers_and_weighted_values_per_stage() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let other = db.tenant().await;
    let mut start = 0;
    let mut deal = |tenant, offer, path: &[Action]| {
        start += 100;
        deal_along(&db, tenant, offer, path.to_vec(), start)
    };
    let to_viewing = [
        Action::MoveStage(Stage::Qualified),
        Action::MoveStage(Stage::Viewing),
    ];
    let to_contract = [
        Action::MoveStage(Stage::Qualified),
        Action::MoveStage(Stage::Viewing),
        Action::MoveStage(Stage::Offer),
        Action::MoveStage(Stage::Negotiation),
        Action::MoveStage(Stage::UnderContract),
    ];
    let mut logs = vec![
        // lead: 10,000,000 at 5%, no offer, 33,333,333 at 5% = 1,666,666.65.
        deal(tenant, Some(10_000_000), &[]).await,
        deal(tenant, None, &[]).await,
        deal(tenant, Some(33_333_333), &[]).await,
        // viewing: 20,000,000 at 20%, 30,000,000 at an explicit 50%.
        deal(tenant, Some(20_000_000), &to_viewing).await,
        deal(
            tenant,
            Some(30_000_000),
            &[to_viewing.as_slice(), &[Action::SetProbability(Some(50))]].concat(),
        )
        .await,
        // under_contract: 50,000,000 at 90%.
        deal(tenant, Some(50_000_000), &to_contract).await,
        // closed_won: the offer at 100%, whatever the final price.
        deal(
            tenant,
            Some(40_000_000),
            &[
                to_contract.as_slice(),
                &[Action::Win {
                    final_price: eur(41_000_000),
                }],
            ]
            .concat(),
        )
        .await,
        // closed_lost at 0%.
        deal(
            tenant,
            Some(25_000_000),
            &[Action::MoveStage(Stage::Qualified), lose("Too expensive")],
        )
        .await,
        // Another tenant's deal is not on this board.
        deal(other, Some(99_999_999), &to_viewing).await,
    ];
    // A property in the log too: the deals projection passes it by.
    db.append(tenant, new_stream(), &[created("Berlin", 45_000_000)])
        .await;

    let mut projector = db.projector(Arc::new(Deals), 1000).await;
    catch_up(&mut projector).await;
    for log in &logs {
        assert_agrees_with_domain(&db, log).await;
    }
    let board: Vec<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT stage, count(*), sum(offer_minor)::bigint, sum(expected_value_minor)::bigint \
         FROM rm_deals.deals WHERE tenant_id = $1 GROUP BY stage ORDER BY stage",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("board");
    let expected = vec![
        ("closed_lost", 1, Some(25_000_000), Some(0)),
        ("closed_won", 1, Some(40_000_000), Some(40_000_000)),
        ("lead", 3, Some(43_333_333), Some(500_000 + 1_666_667)),
        ("under_contract", 1, Some(50_000_000), Some(45_000_000)),
        ("viewing", 2, Some(50_000_000), Some(4_000_000 + 15_000_000)),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(s, c, t, w)| (s.to_owned(), c, t, w))
        .collect();
    assert_eq!(board, expected);

    // The open pipeline's value for one agent.
    let agent = logs[5].deal().agent.as_uuid();
    let weighted: Option<i64> = sqlx::query_scalar(
        "SELECT sum(expected_value_minor)::bigint FROM rm_deals.deals \
         WHERE tenant_id = $1 AND agent_id = $2 AND is_open",
    )
    .bind(tenant.as_uuid())
    .bind(agent)
    .fetch_one(&db.pool)
    .await
    .expect("agent pipeline");
    assert_eq!(weighted, Some(45_000_000));

    // Moving one deal moves its value between columns.
    let moved = &mut logs[3];
    moved
        .run(&db, Action::MoveStage(Stage::Offer), at(5000))
        .await;
    catch_up(&mut projector).await;
    let offer_column: (i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), sum(expected_value_minor)::bigint FROM rm_deals.deals \
         WHERE tenant_id = $1 AND stage = 'offer'",
    )
    .bind(tenant.as_uuid())
    .fetch_one(&db.pool)
    .await
    .expect("offer column");
    assert_eq!(offer_column, (1, Some(8_000_000)));
}

#[tokio::test]
async fn scenarios_keep_their_inputs_and_the_domain_figures() {
    let (db, tenant, mut projector) = start(100).await;
    let mut log = DealLog::new(tenant);
    log.run(&db, open(Some(40_000_000)), at(0)).await;
    let (base, loan, extra) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    let costs = vec![
        Cost {
            label: "Notary".into(),
            amount: eur(1_000_000),
        },
        Cost {
            label: "Transfer tax".into(),
            amount: eur(2_000_000),
        },
    ];
    log.run(
        &db,
        add_scenario(base, "Base", 40_000_000, costs.clone(), None),
        at(1),
    )
    .await;
    log.run(
        &db,
        add_scenario(
            loan,
            "Interest-free loan",
            40_000_000,
            costs.clone(),
            Some(Financing {
                loan: eur(12_000_000),
                annual_rate_bp: 0,
                term_months: 120,
            }),
        ),
        at(2),
    )
    .await;
    log.run(
        &db,
        add_scenario(
            extra,
            "Mortgage",
            39_000_000,
            vec![],
            Some(Financing {
                loan: eur(30_000_000),
                annual_rate_bp: 365,
                term_months: 360,
            }),
        ),
        at(3),
    )
    .await;
    caught_up(&db, &mut projector, &log).await;
    let rows = scenarios(&db, log.id()).await;
    assert_eq!(rows.len(), 3);
    // (40,000,000 − 3,000,000) × 5%.
    let b = &rows[0];
    assert_eq!(
        (b.total_costs_minor, b.equity_needed_minor),
        (Some(3_000_000), Some(43_000_000))
    );
    assert_eq!(
        (b.monthly_payment_minor, b.total_interest_minor),
        (None, Some(0))
    );
    assert_eq!(
        (b.probability_pct, b.expected_value_minor),
        (5, Some(1_850_000))
    );
    assert_eq!((b.added_at, b.updated_at), (at(1), at(1)));
    let l = &rows[1];
    assert_eq!(
        (l.monthly_payment_minor, l.total_interest_minor),
        (Some(100_000), Some(0))
    );
    assert_eq!(l.equity_needed_minor, Some(31_000_000));
    assert!(rows[2].total_interest_minor.expect("interest") > 0);
    assert_eq!(row(&db, log.id()).await.scenario_count, 3);

    // The probability weighs every scenario's expected value.
    for (minute, action, expected) in [
        (4, Action::MoveStage(Stage::Qualified), 3_700_000),
        (5, Action::SetProbability(Some(50)), 18_500_000),
    ] {
        log.run(&db, action, at(minute)).await;
        caught_up(&db, &mut projector, &log).await;
        let first = &scenarios(&db, log.id()).await[0];
        assert_eq!(first.expected_value_minor, Some(expected), "at {minute}");
    }

    // Updated in place (order kept), removed, added again under a new id.
    log.run(
        &db,
        Action::UpdateScenario {
            scenario_id: base,
            name: "Base, renegotiated".into(),
            price: eur(38_000_000),
            costs: costs.clone(),
            financing: None,
        },
        at(6),
    )
    .await;
    log.run(&db, Action::RemoveScenario { scenario_id: loan }, at(7))
        .await;
    log.run(
        &db,
        add_scenario(
            Uuid::from_u128(4),
            "Interest-free loan",
            40_000_000,
            costs,
            None,
        ),
        at(8),
    )
    .await;
    caught_up(&db, &mut projector, &log).await;
    let rows = scenarios(&db, log.id()).await;
    let names: Vec<&str> = rows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Base, renegotiated", "Mortgage", "Interest-free loan"]
    );
    assert_eq!((rows[0].added_at, rows[0].updated_at), (at(1), at(6)));
    assert_eq!(rows[0].expected_value_minor, Some(17_500_000));
    assert_eq!(row(&db, log.id()).await.scenario_count, 3);

    // Closing weighs them at 0% (lost) and reopening at the stage default again.
    log.run(&db, lose("No"), at(9)).await;
    caught_up(&db, &mut projector, &log).await;
    assert_eq!(
        scenarios(&db, log.id()).await[0].expected_value_minor,
        Some(0)
    );
    log.run(&db, Action::Reopen, at(10)).await;
    caught_up(&db, &mut projector, &log).await;
}

#[tokio::test]
async fn an_event_the_rules_never_record_is_a_dead_letter_and_the_rest_applies() {
    let (db, tenant, mut projector) = start(10).await;
    let mut log = DealLog::new(tenant);
    log.run(&db, open(Some(10_000_000)), at(0)).await;
    // An offer in a second currency: the deal's state is left as it was.
    let usd = Money::new(1, Currency::new("USD").expect("USD"));
    let before = log.state.clone();
    log.record(
        &db,
        &[Event::OfferSet {
            from: None,
            to: usd,
        }],
        at(1),
    )
    .await;
    log.state = before;
    // A scenario update of a scenario the deal does not keep.
    db.append_to(
        tenant,
        log.stream,
        "deal",
        &[Event::ScenarioRemoved {
            scenario_id: Uuid::from_u128(9),
        }],
        metadata_by(tenant, &log.actor, at(2)),
    )
    .await;
    // An event of a deal that never opened.
    let orphan = DealLog::new(tenant);
    db.append_to(
        tenant,
        orphan.stream,
        "deal",
        &[Event::StageMoved {
            from: Stage::Lead,
            to: Stage::Qualified,
        }],
        metadata_by(tenant, &orphan.actor, at(3)),
    )
    .await;
    log.run(&db, Action::MoveStage(Stage::Qualified), at(4))
        .await;
    catch_up(&mut projector).await;

    let letters: Vec<(String, String)> =
        sqlx::query_as("SELECT event_type, error FROM deedlog_read.dead_letters ORDER BY position")
            .fetch_all(&db.pool)
            .await
            .expect("dead letters");
    let types: Vec<&str> = letters.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["OfferSet", "ScenarioRemoved", "StageMoved"],
        "{letters:?}"
    );
    assert!(letters[0].1.contains("USD"), "{letters:?}");
    let r = row(&db, log.id()).await;
    assert_eq!(
        (r.stage.as_str(), r.offer_minor, r.version),
        ("qualified", Some(Int64(10_000_000)), Int64(4))
    );
    assert_eq!(r.currency.as_deref(), Some("EUR"));
    assert_eq!(db.count("SELECT count(*) FROM rm_deals.deals").await, 1);
}

/// The `n`-th command of a generated history for `log`, if the rules take it.
fn next_events(log: &DealLog, n: u64) -> Option<Vec<Event>> {
    let when = at(n as i64);
    let Some(deal) = log.state.0.as_ref() else {
        return log.decide(open(Some(20_000_000 + (n as i64 % 7) * 1_000_000)), when);
    };
    let forward = deal
        .stage
        .allowed_moves()
        .into_iter()
        .find(|s| s.is_open() && *s > deal.stage);
    let scenario = Uuid::from_u128(u128::from(n % 3) + 1);
    let action = match (deal.stage, n % 11) {
        (Stage::ClosedWon | Stage::ClosedLost, _) if n.is_multiple_of(5) => Action::Reopen,
        (Stage::ClosedWon | Stage::ClosedLost, _) => return None,
        (Stage::UnderContract, 0 | 1) => Action::Win {
            final_price: eur(21_000_000 + n as i64),
        },
        (_, 2) if n % 4 == 2 => Action::Lose {
            reason: format!("reason {n}"),
        },
        (_, 0 | 1 | 4 | 7) => Action::MoveStage(forward?),
        (_, 2) => Action::MoveStage(deal.stage.allowed_moves().first().copied()?),
        (_, 3) => Action::SetProbability(Some((n * 7 % 101) as u8)),
        (_, 5) => Action::SetOffer(eur(20_000_000 + n as i64 * 1_000)),
        (_, 6) if deal.scenario(scenario).is_some() && n.is_multiple_of(2) => {
            Action::RemoveScenario {
                scenario_id: scenario,
            }
        }
        (_, 6) => {
            let financing = n.is_multiple_of(3).then(|| Financing {
                loan: eur(10_000_000),
                annual_rate_bp: (n % 400) as u32,
                term_months: 240,
            });
            let (scenario_id, name) = (scenario, format!("Scenario {}", n % 3));
            if deal.scenario(scenario).is_some() {
                Action::UpdateScenario {
                    scenario_id,
                    name,
                    price: eur(20_000_000 + n as i64),
                    costs: vec![Cost {
                        label: "Notary".into(),
                        amount: eur(n as i64 * 10),
                    }],
                    financing,
                }
            } else {
                Action::AddScenario {
                    scenario_id,
                    name,
                    price: eur(20_000_000),
                    costs: vec![],
                    financing,
                }
            }
        }
        (_, 8) => Action::SetExpectedClose(NaiveDate::from_ymd_opt(2027, 1, 1 + (n % 28) as u32)),
        (_, 9) => Action::Reassign(UserId::from_uuid(Uuid::from_u128(u128::from(n % 4)))),
        _ => Action::SetCommission(eur(600_000 + n as i64)),
    };
    log.decide(action, when).filter(|events| !events.is_empty())
}

#[tokio::test]
async fn batches_of_any_size_give_the_same_rows_and_reconciliation_is_clean() {
    let db = TestDb::new().await;
    let tenants = [db.tenant().await, db.tenant().await];
    let mut logs: Vec<DealLog> = (0..8).map(|i| DealLog::new(tenants[i % 2])).collect();
    // Interleave the deals' histories, a few events at a time, with
    // properties in between.
    let mut n = 0;
    for round in 0..40u64 {
        for (i, log) in logs.iter_mut().enumerate() {
            if !(round as usize).is_multiple_of(i % 3 + 1) {
                continue;
            }
            // Up to three commands in one append, decided one after the other.
            let mut events = Vec::new();
            for _ in 0..3 {
                n += 1;
                if let Some(decided) = next_events(log, n) {
                    for event in &decided {
                        log.state = evolve(std::mem::take(&mut log.state), event);
                    }
                    events.extend(decided);
                }
            }
            if !events.is_empty() {
                let metadata = metadata_by(log.tenant, &log.actor, at(n as i64));
                db.append_to(log.tenant, log.stream, "deal", &events, metadata)
                    .await;
            }
        }
        if round % 10 == 0 {
            db.append(tenants[0], new_stream(), &[created("Hamburg", 30_000_000)])
                .await;
        }
    }
    let projection: Arc<dyn Projection> = Arc::new(Deals);
    let mut one_by_one = db.projector(projection.clone(), 1).await;
    catch_up(&mut one_by_one).await;
    for log in &logs {
        assert_agrees_with_domain(&db, log).await;
    }
    let stages: i64 = db
        .count("SELECT count(DISTINCT stage) FROM rm_deals.deals")
        .await;
    let reopened: i64 = db
        .count("SELECT count(*) FROM rm_deals.stage_history WHERE kind = 'reopened'")
        .await;
    let kept: i64 = db.count("SELECT count(*) FROM rm_deals.scenarios").await;
    assert!(
        stages >= 3 && reopened >= 1 && kept >= 1,
        "a varied history: {stages} stages, {reopened} reopenings, {kept} scenarios"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM deedlog_read.dead_letters")
            .await,
        0
    );
    let incremental = schema_rows(&db, "rm_deals").await;

    rebuild::rebuild(&db.pool, &db.reader, projection.clone(), 1000, &mut |_| {})
        .await
        .expect("rebuild");
    // Rows built one event at a time against a rebuild in batches of 1000.
    assert_same_rows(&schema_rows(&db, "rm_deals").await, &incremental);

    assert_reconciles_clean(&db, projection, 7).await;
}
