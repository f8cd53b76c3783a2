//! The deal board, a deal's detail and history, and the pipeline of a day.

use crate::support::*;
use chrono::{Duration, NaiveDate};
use deedlog_deals_domain::{Event, Stage};
use deedlog_kernel::{StreamId, TenantId, UserId};
use deedlog_read_model::analytics::{self, PipelineRow};
use deedlog_read_model::deals::{self, StageColumn};
use deedlog_read_model::Int64;
use uuid::Uuid;

fn opened(offer: Option<i64>) -> Event {
    Event::DealOpened {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent: UserId::from_uuid(Uuid::now_v7()),
        offer: offer.map(eur),
        commission: None,
        expected_close: None,
    }
}

async fn deal(db: &TestDb, tenant: TenantId, days: i64, events: &[Event]) -> StreamId {
    let stream = new_stream();
    db.append_at(tenant, stream, "deal", at(24 * days), events)
        .await;
    stream
}

fn column(
    stage: &str,
    count: i64,
    total: i64,
    weighted: i64,
    currency: Option<&str>,
) -> StageColumn {
    StageColumn {
        stage: stage.into(),
        count,
        total_minor: Int64(total),
        weighted_minor: Int64(weighted),
        currency: currency.map(str::to_owned),
    }
}

fn pipeline(
    tenant: TenantId,
    day: NaiveDate,
    stage: &str,
    currency: &str,
    count: i64,
    offers: i64,
    weighted: i64,
) -> PipelineRow {
    PipelineRow {
        tenant_id: tenant.as_uuid(),
        day,
        stage: stage.into(),
        currency: currency.into(),
        deal_count: count,
        offer_total_minor: Int64(offers),
        weighted_total_minor: Int64(weighted),
    }
}

#[tokio::test]
async fn the_board_groups_open_deals_by_stage_and_currency_and_the_pipeline_of_a_day_is_its_latest_snapshot(
) {
    let db = TestDb::new().await;
    let (a, b) = (db.tenant().await, db.tenant().await);
    // 1 December: three open deals and one lost.
    deal(&db, a, 0, &[opened(Some(100_000_000))]).await;
    deal(&db, a, 0, &[opened(Some(300_000_000))]).await;
    deal(&db, a, 0, &[opened(None)]).await;
    let lost = Event::DealLost {
        from: Stage::Lead,
        reason: "Bought elsewhere".into(),
    };
    deal(&db, a, 0, &[opened(Some(50_000_000)), lost]).await;
    // 3 December: a fourth; 5 December it is qualified.
    let moving = deal(&db, a, 2, &[opened(Some(200_000_000))]).await;
    let moved = Event::StageMoved {
        from: Stage::Lead,
        to: Stage::Qualified,
    };
    db.append_at(a, moving, "deal", at(24 * 4), &[moved]).await;
    // Tenant B's deal is on no board of A's.
    deal(&db, b, 0, &[opened(Some(900_000_000))]).await;
    db.project_all().await;

    let mut scope = tenant_scope(&db, a).await;
    // Lead 5 %, qualified 10 %; the deal without an offer has no currency.
    assert_eq!(
        deals::board(scope.conn()).await.expect("board"),
        vec![
            column("lead", 2, 400_000_000, 5_000_000 + 15_000_000, Some("EUR")),
            column("lead", 1, 0, 0, None),
            column("qualified", 1, 200_000_000, 20_000_000, Some("EUR")),
        ]
    );
    let detail = deals::get(scope.conn(), moving.as_uuid())
        .await
        .expect("get")
        .expect("A's deal");
    assert_eq!(
        (
            detail.stage.as_str(),
            detail.probability_pct,
            detail.expected_value_minor
        ),
        ("qualified", 10, Some(Int64(20_000_000)))
    );
    let history = deals::stage_history(scope.conn(), moving.as_uuid())
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .map(|h| (
                h.kind.as_str(),
                h.from_stage.as_deref(),
                h.to_stage.as_str(),
                h.changed_at
            ))
            .collect::<Vec<_>>(),
        vec![
            ("opened", None, "lead", at(48)),
            ("moved", Some("lead"), "qualified", at(96))
        ]
    );

    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
    assert!(
        analytics::pipeline_on(scope.conn(), day(1) - Duration::days(1))
            .await
            .expect("before")
            .is_empty()
    );
    let latest = [
        // 4 December had no change: the snapshot of 3 December holds.
        (
            day(4),
            vec![
                pipeline(a, day(3), "lead", "EUR", 3, 600_000_000, 30_000_000),
                pipeline(a, day(3), "lead", "XXX", 1, 0, 0),
            ],
        ),
        (
            day(30),
            vec![
                pipeline(a, day(5), "lead", "EUR", 2, 400_000_000, 20_000_000),
                pipeline(a, day(5), "lead", "XXX", 1, 0, 0),
                pipeline(a, day(5), "qualified", "EUR", 1, 200_000_000, 20_000_000),
            ],
        ),
    ];
    for (on, expected) in latest {
        let rows = analytics::pipeline_on(scope.conn(), on).await;
        assert_eq!(rows.expect("pipeline"), expected, "on {on}");
    }
    let funnel = analytics::funnel(scope.conn()).await.expect("funnel");
    let lead = funnel.iter().find(|f| f.stage == "lead").expect("lead");
    assert_eq!((lead.deals_reached, lead.entries, lead.exits), (5, 5, 2));
    let board = analytics::leaderboard(scope.conn(), None)
        .await
        .expect("leaderboard");
    assert_eq!(board.iter().map(|r| r.open_deals).sum::<i64>(), 4);
    assert_eq!(board.iter().map(|r| r.deals_lost).sum::<i64>(), 1);
}
