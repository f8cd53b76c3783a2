//! The figures of a period and the pipeline series, at instants chosen to
//! the hour: `from` is included and `to` excluded, a deal won in the
//! period but reopened since no longer counts, and each point of a series
//! is the latest snapshot on or before its day.

use crate::support::*;
use chrono::{Duration, NaiveDate};
use deedlog_deals_domain::{Event, Stage};
use deedlog_kernel::{TenantId, UserId};
use deedlog_read_model::analytics::{self, FunnelRow, Interval, LeaderRow, PipelineRow};
use deedlog_read_model::Int64;
use uuid::Uuid;

fn opened(agent: UserId, offer: i64, commission: Option<i64>) -> Event {
    Event::DealOpened {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent,
        offer: Some(eur(offer)),
        commission: commission.map(eur),
        expected_close: None,
    }
}

/// The moves from lead to under contract.
fn to_contract() -> Vec<Event> {
    let stages = [
        Stage::Lead,
        Stage::Qualified,
        Stage::Viewing,
        Stage::Offer,
        Stage::Negotiation,
        Stage::UnderContract,
    ];
    stages
        .windows(2)
        .map(|w| Event::StageMoved {
            from: w[0],
            to: w[1],
        })
        .collect()
}

fn won(price: i64) -> Event {
    Event::DealWon {
        from: Stage::UnderContract,
        final_price: eur(price),
    }
}

fn funnel(
    t: TenantId,
    stage: &str,
    reached: i64,
    entries: i64,
    exits: i64,
    total: i64,
) -> FunnelRow {
    FunnelRow {
        deals_reached: reached,
        entries,
        exits,
        total_seconds: total,
        avg_seconds: (exits > 0).then(|| total / exits),
        ..FunnelRow::new(t.as_uuid(), stage)
    }
}

fn pipeline(
    t: TenantId,
    day: NaiveDate,
    stage: &str,
    count: i64,
    offers: i64,
    weighted: i64,
) -> PipelineRow {
    PipelineRow {
        tenant_id: t.as_uuid(),
        day,
        stage: stage.into(),
        currency: "EUR".into(),
        deal_count: count,
        offer_total_minor: Int64(offers),
        weighted_total_minor: Int64(weighted),
    }
}

#[tokio::test]
async fn a_period_counts_from_its_start_included_to_its_end_excluded_and_a_series_takes_the_latest_snapshot(
) {
    let db = TestDb::new().await;
    let t = db.tenant().await;
    let (ada, ben) = (
        UserId::from_uuid(Uuid::now_v7()),
        UserId::from_uuid(Uuid::now_v7()),
    );
    // 1 December 09:00: x and z under contract, y a lead.
    let (x, y, z) = (new_stream(), new_stream(), new_stream());
    let mut events = vec![opened(ada, 100_000_000, Some(3_000_000))];
    events.extend(to_contract());
    db.append_at(t, x, "deal", at(0), &events).await;
    db.append_at(t, y, "deal", at(0), &[opened(ben, 50_000_000, None)])
        .await;
    let mut events = vec![opened(ada, 20_000_000, None)];
    events.extend(to_contract());
    db.append_at(t, z, "deal", at(0), &events).await;
    // 2 December: x won at 09:00, z won at 11:00, y lost at 15:00.
    db.append_at(t, x, "deal", at(24), &[won(95_000_000)]).await;
    db.append_at(t, z, "deal", at(26), &[won(19_000_000)]).await;
    let lost = Event::DealLost {
        from: Stage::Lead,
        reason: "Bought elsewhere".into(),
    };
    db.append_at(t, y, "deal", at(30), &[lost]).await;
    // 3 December 11:00: z is reopened.
    let reopened = Event::DealReopened {
        to: Stage::UnderContract,
    };
    db.append_at(t, z, "deal", at(50), &[reopened]).await;
    db.project_all().await;
    let mut scope = tenant_scope(&db, t).await;

    let hour = 3600;
    let day2 = analytics::funnel_between(scope.conn(), at(24), at(48)).await;
    assert_eq!(
        day2.expect("funnel"),
        vec![
            funnel(t, "lead", 0, 0, 1, 30 * hour),
            funnel(t, "under_contract", 0, 0, 2, 24 * hour + 26 * hour),
            funnel(t, "closed_won", 2, 2, 0, 0),
            funnel(t, "closed_lost", 1, 1, 0, 0),
        ]
    );
    // `to` excluded: z's win at 11:00 is not in [09:00, 11:00).
    let morning = analytics::funnel_between(scope.conn(), at(24), at(26)).await;
    assert_eq!(
        morning.expect("funnel"),
        vec![
            funnel(t, "under_contract", 0, 0, 1, 24 * hour),
            funnel(t, "closed_won", 1, 1, 0, 0),
        ]
    );

    // z was won on the 2nd but is open again: only x counts as won.
    let standing =
        |agent: UserId, won: i64, volume: i64, commission: i64, lost: i64, open: i64| LeaderRow {
            tenant_id: t.as_uuid(),
            agent_id: agent.as_uuid(),
            currency: "EUR".into(),
            deals_won: won,
            won_volume_minor: Int64(volume),
            commission_minor: Int64(commission),
            deals_lost: lost,
            open_deals: open,
        };
    let board = analytics::leaderboard_between(scope.conn(), at(24), at(48), None).await;
    assert_eq!(
        board.expect("leaderboard"),
        vec![
            standing(ada, 1, 95_000_000, 3_000_000, 0, 1),
            standing(ben, 0, 0, 0, 1, 0),
        ]
    );
    let top = analytics::leaderboard_between(scope.conn(), at(24), at(48), Some(1)).await;
    assert_eq!(
        top.expect("top"),
        vec![standing(ada, 1, 95_000_000, 3_000_000, 0, 1)]
    );
    let before = analytics::leaderboard_between(scope.conn(), at(0), at(24), None).await;
    assert_eq!(before.expect("before"), vec![]);

    // Under contract at 90 %, a lead at 5 %; the 2nd ends empty.
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
    let first = vec![
        pipeline(t, day(1), "lead", 1, 50_000_000, 2_500_000),
        pipeline(t, day(1), "under_contract", 2, 120_000_000, 108_000_000),
    ];
    let reopened = vec![pipeline(
        t,
        day(3),
        "under_contract",
        1,
        20_000_000,
        18_000_000,
    )];
    let series = analytics::pipeline_series(
        scope.conn(),
        day(1) - Duration::days(1),
        day(4),
        Interval::Day,
    )
    .await
    .expect("series");
    let points: Vec<_> = series
        .iter()
        .map(|p| (p.start, p.at, p.stages.clone()))
        .collect();
    assert_eq!(
        points,
        vec![
            (
                day(1) - Duration::days(1),
                day(1) - Duration::days(1),
                vec![]
            ),
            (day(1), day(1), first.clone()),
            (day(2), day(2), vec![]),
            (day(3), day(3), reopened.clone()),
            (day(4), day(4), reopened.clone()),
        ]
    );
    // 30 November is a Monday; the second week ends at `to`.
    let weeks = analytics::pipeline_series(scope.conn(), day(2), day(8), Interval::Week)
        .await
        .expect("weeks");
    let points: Vec<_> = weeks
        .iter()
        .map(|p| (p.start, p.at, p.stages.clone()))
        .collect();
    assert_eq!(
        points,
        vec![
            (day(1) - Duration::days(1), day(6), reopened.clone()),
            (day(7), day(8), reopened.clone()),
        ]
    );
    let months = analytics::pipeline_series(
        scope.conn(),
        day(1) - Duration::days(1),
        day(1),
        Interval::Month,
    )
    .await
    .expect("months");
    let points: Vec<_> = months
        .iter()
        .map(|p| (p.start, p.at, p.stages.clone()))
        .collect();
    let november = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    assert_eq!(
        points,
        vec![
            (november, day(1) - Duration::days(1), vec![]),
            (day(1), day(1), first),
        ]
    );
    let refused = analytics::pipeline_series(
        scope.conn(),
        day(1),
        day(1) + Duration::days(366),
        Interval::Day,
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(deedlog_read_model::Error::BadInput {
                field: "interval",
                ..
            })
        ),
        "{refused:?}"
    );
}
