//! The analytics read model holds what the deal, property and contact
//! events say, day by day and week by week, the same at any batch size.

use crate::support::*;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use deedlog_communications_domain::{Channel, Event as ContactEvent, RefusalReason};
use deedlog_deals_domain::{Event as DealEvent, Stage};
use deedlog_kernel::{Currency, Money, StreamId, TenantId, UserId};
use deedlog_projector::projections::analytics::Analytics;
use deedlog_properties_domain::Event as PropertyEvent;
use std::fmt::Debug;
use std::sync::Arc;
use uuid::Uuid;

fn at(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .single()
        .expect("instant")
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("date")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::new("USD").expect("USD"))
}

fn opened(agent: UserId, offer: Option<Money>, commission: Option<Money>) -> DealEvent {
    DealEvent::DealOpened {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent,
        offer,
        commission,
        expected_close: None,
    }
}

fn moved(from: Stage, to: Stage) -> DealEvent {
    DealEvent::StageMoved { from, to }
}

fn unpriced() -> PropertyEvent {
    match created("Hamburg", 1) {
        PropertyEvent::PropertyCreated {
            address,
            kind,
            attributes,
            agent,
            owner,
            tags,
            ..
        } => PropertyEvent::PropertyCreated {
            address,
            kind,
            attributes,
            asking_price: None,
            agent,
            owner,
            tags,
        },
        other => other,
    }
}

fn price_changed(from: Option<i64>, to: i64) -> PropertyEvent {
    PropertyEvent::AskingPriceChanged {
        from: from.map(eur),
        to: eur(to),
    }
}

fn contact_created() -> ContactEvent {
    ContactEvent::ContactCreated {
        name: "Lena Hoffmann".into(),
        email: Some("lena@example.de".into()),
        phone: Some("+4915112345678".into()),
        address: None,
    }
}

fn queued(message: Uuid, channel: Channel, when: DateTime<Utc>) -> ContactEvent {
    ContactEvent::MessageQueued {
        message_id: message,
        conversation_id: message,
        channel,
        subject: None,
        body: "Hello".into(),
        property: None,
        deal: None,
        at: when,
    }
}

fn refused(channel: Channel, reason: RefusalReason, when: DateTime<Utc>) -> ContactEvent {
    let message = Uuid::now_v7();
    ContactEvent::MessageRefused {
        message_id: message,
        conversation_id: message,
        channel,
        reasons: vec![reason],
        at: when,
    }
}

fn bounced(message: Uuid, channel: Channel, hard: bool, when: DateTime<Utc>) -> ContactEvent {
    ContactEvent::MessageBounced {
        message_id: message,
        channel,
        hard,
        detail: String::new(),
        provider_event_id: format!("evt_{}", Uuid::now_v7().simple()),
        at: when,
    }
}

fn lost(from: Stage) -> DealEvent {
    DealEvent::DealLost {
        from,
        reason: "Bought elsewhere".into(),
    }
}

/// A delivery report: delivered, or opened when `opened`.
fn report(message: Uuid, channel: Channel, opened: bool, when: DateTime<Utc>) -> ContactEvent {
    let provider_event_id = format!("evt_{}", Uuid::now_v7().simple());
    if opened {
        ContactEvent::MessageOpened {
            message_id: message,
            channel,
            provider_event_id,
            at: when,
        }
    } else {
        ContactEvent::MessageDelivered {
            message_id: message,
            channel,
            provider_event_id,
            at: when,
        }
    }
}

fn replied(to: Uuid, channel: Channel, when: DateTime<Utc>) -> ContactEvent {
    ContactEvent::ReplyReceived {
        message_id: Uuid::now_v7(),
        in_reply_to: Some(to),
        conversation_id: to,
        channel,
        body: "Saturday works for me.".into(),
        provider_event_id: format!("inbound_{}", Uuid::now_v7().simple()),
        at: when,
    }
}

/// The two tenants and the agents of the history below.
struct History {
    a: TenantId,
    b: TenantId,
    a1: UserId,
    a2: UserId,
    b1: UserId,
}

/// Appends commands, one per call, each by a fresh user at a given time.
struct Log<'a>(&'a TestDb);

impl Log<'_> {
    async fn append<E: serde::Serialize + deedlog_kernel::DomainEvent>(
        &self,
        (tenant, stream): (TenantId, StreamId),
        stream_type: &str,
        when: DateTime<Utc>,
        events: &[E],
    ) {
        let actor = format!("user:{}", Uuid::now_v7());
        let metadata = metadata_by(tenant, &actor, when);
        self.0
            .append_to(tenant, stream, stream_type, events, metadata)
            .await;
    }

    async fn deal(&self, record: (TenantId, StreamId), when: DateTime<Utc>, event: DealEvent) {
        self.append(record, "deal", when, &[event]).await;
    }

    async fn property(&self, record: (TenantId, StreamId), when: DateTime<Utc>, e: PropertyEvent) {
        self.append(record, "property", when, &[e]).await;
    }

    async fn contact(&self, record: (TenantId, StreamId), when: DateTime<Utc>, e: ContactEvent) {
        self.append(record, "contact", when, &[e]).await;
    }
}

/// A history over two weeks, appended in time order: Monday 30 November
/// (D1), Tuesday 1 December (D2), Thursday 3 December (D3) and Monday 7
/// December (D4, the next week).
///
/// Tenant A: deal X (agent a1, offer 1,000,000) goes all the way to won;
/// deal Y (agent a2) opens without amounts, gets an offer, is lost and
/// reopened; deal Z (a1, offer 2,000,000) is reassigned to a2. Property P1
/// changes price three times, P2 gets its first price; contact C1 gets an
/// email (delivered, opened, replied to, then a refused one) and an sms
/// that bounces hard.
///
/// Tenant B: deal W (b1, offer 3,000,000 USD) moves to qualified and is
/// lost; deal V (b1) opens without amounts and gets its currency from a
/// scenario; property P3 drops its price; contact C2 gets a call, a letter
/// that bounces softly and a refused sms.
async fn write_history(db: &TestDb) -> History {
    use Stage::*;
    let (a, b) = (db.tenant().await, db.tenant().await);
    let h = History {
        a,
        b,
        a1: UserId::from_uuid(Uuid::now_v7()),
        a2: UserId::from_uuid(Uuid::now_v7()),
        b1: UserId::from_uuid(Uuid::now_v7()),
    };
    let (x, y, z) = ((a, new_stream()), (a, new_stream()), (a, new_stream()));
    let (w, v) = ((b, new_stream()), (b, new_stream()));
    let (p1, p2, p3) = ((a, new_stream()), (a, new_stream()), (b, new_stream()));
    let (c1, c2) = ((a, new_stream()), (b, new_stream()));
    let (email, sms, letter) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let log = Log(db);

    // D1, Monday 30 November.
    let (offer, commission) = (Some(usd(3_000_000)), Some(usd(90_000)));
    log.deal(w, at(11, 30, 9, 0), opened(h.b1, offer, commission))
        .await;
    log.deal(w, at(11, 30, 9, 30), moved(Lead, Qualified)).await;
    log.property(p3, at(11, 30, 9, 45), created("Köln", 10_000_000))
        .await;
    let (offer, commission) = (Some(eur(1_000_000)), Some(eur(30_000)));
    log.deal(x, at(11, 30, 10, 0), opened(h.a1, offer, commission))
        .await;
    let when = at(11, 30, 10, 30);
    let first = [contact_created(), queued(email, Channel::Email, when)];
    log.append(c1, "contact", when, &first).await;
    let when = at(11, 30, 10, 45);
    log.contact(c1, when, report(email, Channel::Email, false, when))
        .await;
    log.deal(y, at(11, 30, 11, 0), opened(h.a2, None, None))
        .await;
    let when = at(11, 30, 11, 30);
    let first = [
        contact_created(),
        queued(Uuid::now_v7(), Channel::Call, when),
    ];
    log.append(c2, "contact", when, &first).await;
    log.deal(x, at(11, 30, 12, 0), moved(Lead, Qualified)).await;
    log.property(p1, at(11, 30, 13, 0), created("Berlin", 50_000_000))
        .await;
    let change = price_changed(Some(50_000_000), 48_000_000);
    log.property(p1, at(11, 30, 14, 0), change).await;

    // D2, Tuesday 1 December.
    let when = at(12, 1, 8, 0);
    log.contact(c1, when, report(email, Channel::Email, true, when))
        .await;
    log.deal(x, at(12, 1, 9, 0), moved(Qualified, Viewing))
        .await;
    let when = at(12, 1, 9, 15);
    log.contact(c1, when, replied(email, Channel::Email, when))
        .await;
    let when = at(12, 1, 9, 30);
    let paused = RefusalReason::PausedAfterReply {
        since: at(12, 1, 9, 15),
    };
    log.contact(c1, when, refused(Channel::Email, paused, when))
        .await;
    let raise = DealEvent::OfferSet {
        from: Some(eur(1_000_000)),
        to: eur(1_200_000),
    };
    log.deal(x, at(12, 1, 10, 0), raise).await;
    log.deal(v, at(12, 1, 10, 0), opened(h.b1, None, None))
        .await;
    let scenario = DealEvent::ScenarioAdded {
        scenario_id: Uuid::now_v7(),
        name: "Base case".into(),
        price: eur(4_000_000),
        costs: Vec::new(),
        financing: None,
    };
    log.deal(v, at(12, 1, 11, 0), scenario).await;
    let change = price_changed(Some(10_000_000), 9_500_000);
    log.property(p3, at(12, 1, 11, 30), change).await;
    let offer = DealEvent::OfferSet {
        from: None,
        to: eur(500_000),
    };
    log.deal(y, at(12, 1, 12, 0), offer).await;
    log.property(p2, at(12, 1, 13, 0), unpriced()).await;
    let change = price_changed(None, 30_000_000);
    log.property(p2, at(12, 1, 13, 5), change).await;
    let when = at(12, 1, 14, 0);
    log.contact(c2, when, queued(letter, Channel::Letter, when))
        .await;
    let (offer, commission) = (Some(eur(2_000_000)), Some(eur(60_000)));
    log.deal(z, at(12, 1, 15, 0), opened(h.a1, offer, commission))
        .await;

    // D3, Thursday 3 December.
    log.deal(x, at(12, 3, 8, 0), moved(Viewing, Offer)).await;
    let explicit = DealEvent::ProbabilitySet { pct: Some(50) };
    log.deal(x, at(12, 3, 8, 30), explicit).await;
    let reassigned = DealEvent::DealReassigned {
        from: h.a1,
        to: h.a2,
    };
    log.deal(z, at(12, 3, 9, 0), reassigned).await;
    log.deal(w, at(12, 3, 10, 0), lost(Qualified)).await;
    log.deal(y, at(12, 3, 12, 0), lost(Lead)).await;
    let when = at(12, 3, 13, 0);
    log.contact(c2, when, bounced(letter, Channel::Letter, false, when))
        .await;
    let change = price_changed(Some(48_000_000), 49_000_000);
    log.property(p1, at(12, 3, 14, 0), change).await;
    let when = at(12, 3, 21, 30);
    let quiet = RefusalReason::QuietHours {
        local_time: NaiveTime::from_hms_opt(22, 30, 0).expect("time"),
        time_zone: "Europe/Berlin".into(),
    };
    log.contact(c2, when, refused(Channel::Sms, quiet, when))
        .await;

    // D4, Monday 7 December: the next week.
    log.deal(x, at(12, 7, 9, 0), moved(Offer, Negotiation))
        .await;
    log.deal(x, at(12, 7, 10, 0), moved(Negotiation, UnderContract))
        .await;
    let won = DealEvent::DealWon {
        from: UnderContract,
        final_price: eur(1_150_000),
    };
    log.deal(x, at(12, 7, 11, 0), won).await;
    let reopened = DealEvent::DealReopened { to: Lead };
    log.deal(y, at(12, 7, 12, 0), reopened).await;
    let when = at(12, 7, 13, 0);
    log.contact(c1, when, queued(sms, Channel::Sms, when)).await;
    let when = at(12, 7, 13, 5);
    log.contact(c1, when, bounced(sms, Channel::Sms, true, when))
        .await;
    let change = price_changed(Some(49_000_000), 45_000_000);
    log.property(p1, at(12, 7, 14, 0), change).await;
    h
}

/// Asserts row by row, printing only a row that differs.
fn assert_rows<T: PartialEq + Debug>(what: &str, actual: &[T], expected: &[T]) {
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a, e, "{what}, row {i}");
    }
    assert_eq!(actual.len(), expected.len(), "{what}: number of rows");
}

type PipelineRow = (NaiveDate, String, String, i64, i64, i64);

async fn pipeline(db: &TestDb, tenant: TenantId) -> Vec<PipelineRow> {
    sqlx::query_as(
        "SELECT day, stage, currency, deal_count, offer_total_minor, weighted_total_minor \
         FROM rm_analytics.pipeline_by_day WHERE tenant_id = $1 \
         ORDER BY day, stage COLLATE \"C\", currency COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("pipeline")
}

/// The tenant's pipeline on `day`: the latest snapshot at or before it.
async fn pipeline_on(db: &TestDb, tenant: TenantId, day: NaiveDate) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT stage, currency, deal_count FROM rm_analytics.pipeline_by_day p \
         WHERE tenant_id = $1 AND deal_count > 0 AND day = \
           (SELECT max(day) FROM rm_analytics.pipeline_by_day WHERE tenant_id = $1 AND day <= $2) \
         ORDER BY stage COLLATE \"C\", currency COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .bind(day)
    .fetch_all(&db.pool)
    .await
    .expect("pipeline on a day")
}

type FunnelRow = (String, i64, i64, i64, i64, Option<i64>);

async fn funnel(db: &TestDb, tenant: TenantId) -> Vec<FunnelRow> {
    sqlx::query_as(
        "SELECT stage, deals_reached, entries, exits, total_seconds, avg_seconds \
         FROM rm_analytics.funnel WHERE tenant_id = $1 ORDER BY stage COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("funnel")
}

type LeaderRow = (Uuid, String, i64, i64, i64, i64, i64);

async fn leaderboard(db: &TestDb, tenant: TenantId) -> Vec<LeaderRow> {
    sqlx::query_as(
        "SELECT agent_id, currency, deals_won, won_volume_minor, commission_minor, deals_lost, open_deals \
         FROM rm_analytics.agent_leaderboard WHERE tenant_id = $1 ORDER BY agent_id, currency COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("leaderboard")
}

type PriceRow = (NaiveDate, String, i64, i64, i64, i64);

async fn prices(db: &TestDb, tenant: TenantId) -> Vec<PriceRow> {
    sqlx::query_as(
        "SELECT week_start, currency, changes, decreases, increases, abs_change_minor \
         FROM rm_analytics.price_changes_by_week WHERE tenant_id = $1 ORDER BY week_start, currency COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("price changes")
}

type MessageRow = (NaiveDate, String, [i64; 7]);
type MessageColumns = (NaiveDate, String, i64, i64, i64, i64, i64, i64, i64);

async fn messages(db: &TestDb, tenant: TenantId) -> Vec<MessageRow> {
    let rows: Vec<MessageColumns> = sqlx::query_as(
        "SELECT week_start, channel, sent, refused, delivered, opened, bounced, hard_bounced, replied \
         FROM rm_analytics.messages_by_week WHERE tenant_id = $1 ORDER BY week_start, channel COLLATE \"C\"",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("messages");
    rows.into_iter()
        .map(|r| (r.0, r.1, [r.2, r.3, r.4, r.5, r.6, r.7, r.8]))
        .collect()
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// Every table against the numbers worked out by hand from the history.
async fn assert_history(db: &TestDb, h: &History) {
    let (d1, d2, d3, d4) = (date(11, 30), date(12, 1), date(12, 3), date(12, 7));
    let eur = || s("EUR");

    // Tenant A. D1: X opened in lead and moved on (the emptied lead row
    // stays on D1), Y opened without amounts (XXX). D2 copies D1's rows that
    // count a deal, then X moves to viewing and raises its offer to
    // 1,200,000 (20 % = 240,000), Y's offer of 500,000 moves it to EUR and Z
    // opens at 2,000,000: lead EUR 2 deals, 2,500,000, 5 % = 125,000. D3: X
    // to offer at an explicit 50 % (600,000), Y lost; Z's reassignment
    // changes nothing here. D4: X through negotiation and under contract to
    // won, Y reopened in lead.
    assert_rows(
        "pipeline of A",
        &pipeline(db, h.a).await,
        &[
            (d1, s("lead"), eur(), 0, 0, 0),
            (d1, s("lead"), s("XXX"), 1, 0, 0),
            (d1, s("qualified"), eur(), 1, 1_000_000, 100_000),
            (d2, s("lead"), eur(), 2, 2_500_000, 125_000),
            (d2, s("lead"), s("XXX"), 0, 0, 0),
            (d2, s("qualified"), eur(), 0, 0, 0),
            (d2, s("viewing"), eur(), 1, 1_200_000, 240_000),
            (d3, s("lead"), eur(), 1, 2_000_000, 100_000),
            (d3, s("offer"), eur(), 1, 1_200_000, 600_000),
            (d3, s("viewing"), eur(), 0, 0, 0),
            (d4, s("lead"), eur(), 2, 2_500_000, 125_000),
            (d4, s("negotiation"), eur(), 0, 0, 0),
            (d4, s("offer"), eur(), 0, 0, 0),
            (d4, s("under_contract"), eur(), 0, 0, 0),
        ],
    );
    // Tenant B. D1: W opened and qualified (10 % of 3,000,000). D2: V
    // opens without amounts, its scenario fixes EUR (no offer: no value).
    // D3: W lost; V stays.
    assert_rows(
        "pipeline of B",
        &pipeline(db, h.b).await,
        &[
            (d1, s("lead"), s("USD"), 0, 0, 0),
            (d1, s("qualified"), s("USD"), 1, 3_000_000, 300_000),
            (d2, s("lead"), eur(), 1, 0, 0),
            (d2, s("lead"), s("XXX"), 0, 0, 0),
            (d2, s("qualified"), s("USD"), 1, 3_000_000, 300_000),
            (d3, s("lead"), eur(), 1, 0, 0),
            (d3, s("qualified"), s("USD"), 0, 0, 0),
        ],
    );
    // A day without a snapshot reads the latest one before it.
    assert_eq!(
        pipeline_on(db, h.a, date(12, 2)).await,
        vec![(s("lead"), eur(), 2), (s("viewing"), eur(), 1)]
    );
    assert_eq!(
        pipeline_on(db, h.b, date(12, 31)).await,
        vec![(s("lead"), eur(), 1)]
    );
    assert!(pipeline_on(db, h.a, date(11, 29)).await.is_empty());

    // Tenant A. Lead: X 10:00–12:00 on D1 (7,200 s), Y D1 11:00 to D3 12:00
    // (73 h = 262,800 s), then Y again from D4 and Z from D2 (still there).
    // X: qualified D1 12:00–D2 09:00 (21 h), viewing D2 09:00–D3 08:00
    // (47 h), offer D3 08:00–D4 09:00 (97 h), an hour each in negotiation
    // and under contract. Y lost D3 12:00–D4 12:00 (96 h).
    assert_rows(
        "funnel of A",
        &funnel(db, h.a).await,
        &[
            (s("closed_lost"), 1, 1, 1, 345_600, Some(345_600)),
            (s("closed_won"), 1, 1, 0, 0, None),
            (s("lead"), 3, 4, 2, 270_000, Some(135_000)),
            (s("negotiation"), 1, 1, 1, 3_600, Some(3_600)),
            (s("offer"), 1, 1, 1, 349_200, Some(349_200)),
            (s("qualified"), 1, 1, 1, 75_600, Some(75_600)),
            (s("under_contract"), 1, 1, 1, 3_600, Some(3_600)),
            (s("viewing"), 1, 1, 1, 169_200, Some(169_200)),
        ],
    );
    // Tenant B. W: lead 09:00–09:30 on D1, qualified D1 09:30–D3 10:00
    // (72.5 h); V in lead since D2.
    assert_rows(
        "funnel of B",
        &funnel(db, h.b).await,
        &[
            (s("closed_lost"), 1, 1, 0, 0, None),
            (s("lead"), 2, 2, 1, 1_800, Some(1_800)),
            (s("qualified"), 1, 1, 1, 261_000, Some(261_000)),
        ],
    );

    // a1 won X (1,150,000, commission 30,000) and gave Z to a2, who also
    // has Y open again; Y's XXX row went when its currency became known.
    let mut expected_a = vec![
        (h.a1.as_uuid(), eur(), 1, 1_150_000, 30_000, 0, 0),
        (h.a2.as_uuid(), eur(), 0, 0, 0, 0, 2),
    ];
    expected_a.sort_by_key(|r| r.0);
    assert_rows("leaderboard of A", &leaderboard(db, h.a).await, &expected_a);
    assert_rows(
        "leaderboard of B",
        &leaderboard(db, h.b).await,
        &[
            (h.b1.as_uuid(), eur(), 0, 0, 0, 0, 1),
            (h.b1.as_uuid(), s("USD"), 0, 0, 0, 1, 0),
        ],
    );

    // A, week of 30 November: P1 50M → 48M (−2M), P2's first price (30M:
    // neither way), P1 48M → 49M (+1M). Week of 7 December: P1 49M → 45M.
    assert_rows(
        "price changes of A",
        &prices(db, h.a).await,
        &[
            (d1, eur(), 3, 1, 1, 3_000_000),
            (d4, eur(), 1, 1, 0, 4_000_000),
        ],
    );
    assert_rows(
        "price changes of B",
        &prices(db, h.b).await,
        &[(d1, eur(), 1, 1, 0, 500_000)],
    );

    // [sent, refused, delivered, opened, bounced, hard_bounced, replied]
    assert_rows(
        "messages of A",
        &messages(db, h.a).await,
        &[
            (d1, s("email"), [1, 1, 1, 1, 0, 0, 1]),
            (d4, s("sms"), [1, 0, 0, 0, 1, 1, 0]),
        ],
    );
    assert_rows(
        "messages of B",
        &messages(db, h.b).await,
        &[
            (d1, s("call"), [1, 0, 0, 0, 0, 0, 0]),
            (d1, s("letter"), [1, 0, 0, 0, 1, 0, 0]),
            (d1, s("sms"), [0, 1, 0, 0, 0, 0, 0]),
        ],
    );
}

async fn assert_reconciles(db: &TestDb, batch: u32) {
    assert_reconciles_clean(db, Arc::new(Analytics), batch).await;
}

/// Projects the two-week history in batches of `batch`, checks every
/// table against the hand-computed numbers, and reconciles with a rebuild
/// in batches of `rebuild_batch`.
async fn project_history_and_reconcile(batch: u32, rebuild_batch: u32) {
    let db = TestDb::new().await;
    let h = write_history(&db).await;
    let mut projector = db.projector(Arc::new(Analytics), batch).await;
    catch_up(&mut projector).await;
    assert_history(&db, &h).await;
    assert_reconciles(&db, rebuild_batch).await;
}

#[tokio::test]
async fn every_table_holds_the_hand_computed_numbers_of_a_two_week_history() {
    project_history_and_reconcile(1000, 100).await;
}

#[tokio::test]
async fn event_by_event_gives_the_same_rows_as_batches_of_a_thousand() {
    // The rebuild aside runs in batches of 1000 and must equal, row for
    // row, the live model built one event at a time.
    project_history_and_reconcile(1, 1000).await;
}

type DealStateColumns = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i16>,
    DateTime<Utc>,
    Vec<String>,
    i64,
);

#[tokio::test]
async fn a_deal_state_row_follows_the_deal() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (agent, deal) = (UserId::from_uuid(Uuid::now_v7()), (tenant, new_stream()));
    let log = Log(&db);
    let offer = Some(eur(800_000));
    log.deal(deal, at(12, 1, 9, 0), opened(agent, offer, None))
        .await;
    log.deal(deal, at(12, 1, 10, 0), moved(Stage::Lead, Stage::Qualified))
        .await;
    let explicit = DealEvent::ProbabilitySet { pct: Some(35) };
    log.deal(deal, at(12, 2, 10, 0), explicit).await;
    let commission = DealEvent::CommissionSet { to: eur(24_000) };
    log.deal(deal, at(12, 2, 11, 0), commission).await;
    let mut projector = db.projector(Arc::new(Analytics), 2).await;
    catch_up(&mut projector).await;
    let row: DealStateColumns = sqlx::query_as(
            "SELECT stage, last_open_stage, offer_minor, commission_minor, currency, probability_pct, \
             entered_stage_at, reached_stages, version FROM rm_analytics.deal_state WHERE deal_id = $1",
        )
    .bind(deal.1.as_uuid())
    .fetch_one(&db.pool)
    .await
    .expect("deal state");
    assert_eq!(
        row,
        (
            s("qualified"),
            s("qualified"),
            Some(800_000),
            Some(24_000),
            Some(s("EUR")),
            Some(35),
            at(12, 1, 10, 0),
            vec![s("lead"), s("qualified")],
            4
        )
    );
    // The explicit 35 % weights the offer on the day it was set.
    assert_eq!(
        pipeline(&db, tenant).await,
        vec![
            (date(12, 1), s("lead"), s("EUR"), 0, 0, 0),
            (date(12, 1), s("qualified"), s("EUR"), 1, 800_000, 80_000),
            (date(12, 2), s("qualified"), s("EUR"), 1, 800_000, 280_000),
        ]
    );
}

#[tokio::test]
async fn a_deal_event_without_its_opening_is_a_dead_letter_and_the_rest_goes_on() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let agent = UserId::from_uuid(Uuid::now_v7());
    let (orphan, deal) = ((tenant, new_stream()), (tenant, new_stream()));
    let log = Log(&db);
    log.deal(
        orphan,
        at(12, 1, 9, 0),
        moved(Stage::Lead, Stage::Qualified),
    )
    .await;
    let offer = Some(eur(100_000));
    log.deal(deal, at(12, 1, 10, 0), opened(agent, offer, None))
        .await;
    let mut projector = db.projector(Arc::new(Analytics), 100).await;
    catch_up(&mut projector).await;
    let dead: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT stream_id, error FROM deedlog_read.dead_letters WHERE projection = 'analytics'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, orphan.1.as_uuid());
    assert!(
        dead[0].1.contains("its opening was not applied"),
        "{}",
        dead[0].1
    );
    assert_eq!(
        leaderboard(&db, tenant).await,
        vec![(agent.as_uuid(), s("EUR"), 0, 0, 0, 0, 1)]
    );
}

/// A deterministic mixed history: many deals moving, won, lost and
/// reopened over three weeks, with some events whose clock is behind the
/// one before (an earlier day arriving after a later one).
async fn write_generated_history(db: &TestDb, tenants: &[TenantId]) {
    let open = deedlog_deals_domain::stage::OPEN;
    let log = Log(db);
    for (t, tenant) in tenants.iter().enumerate() {
        let agents: Vec<UserId> = (0..3).map(|_| UserId::from_uuid(Uuid::now_v7())).collect();
        for n in 0..12usize {
            let deal = new_stream();
            let agent = agents[n % 3];
            let day = 1 + (n as u32 * 5 + t as u32) % 20;
            let offer = (n % 4 != 0).then(|| eur(100_000 * (n as i64 + 1)));
            let mut events = vec![(at(12, day, 9, 0), opened(agent, offer, None))];
            let mut stage = 0;
            for k in 0..(n % 7 + 1) {
                let when = at(12, (day + k as u32).min(28), 10 + (k as u32 % 10), 0);
                let event = match (n + k) % 5 {
                    0..=2 if stage + 1 < open.len() => {
                        stage += 1;
                        moved(open[stage - 1], open[stage])
                    }
                    3 if stage > 0 => {
                        stage -= 1;
                        moved(open[stage + 1], open[stage])
                    }
                    4 => DealEvent::OfferSet {
                        from: None,
                        to: eur(50_000 * (k as i64 + 2)),
                    },
                    _ => DealEvent::ProbabilitySet {
                        pct: Some((10 * k as u8 + 15).min(100)),
                    },
                };
                events.push((when, event));
            }
            match n % 3 {
                0 => {
                    let when = at(12, (day + 8).min(28), 18, 0);
                    while stage + 1 < open.len() {
                        stage += 1;
                        events.push((when, moved(open[stage - 1], open[stage])));
                    }
                    events.push((
                        when,
                        DealEvent::DealWon {
                            from: open[stage],
                            final_price: eur(900_000),
                        },
                    ));
                }
                1 => {
                    let when = at(12, (day + 6).min(28), 17, 0);
                    events.push((
                        when,
                        DealEvent::DealLost {
                            from: open[stage],
                            reason: "gone".into(),
                        },
                    ));
                    if n % 2 == 1 {
                        events.push((
                            at(12, (day + 9).min(28), 8, 0),
                            DealEvent::DealReopened { to: open[stage] },
                        ));
                    }
                }
                _ => {}
            }
            // A late event with an earlier clock than the one before it.
            if n % 4 == 1 {
                let last = events.len() - 1;
                let when = events[last].0 - chrono::Duration::days(2);
                events[last].0 = when.max(events[0].0);
            }
            for (when, event) in events {
                log.deal((*tenant, deal), when, event).await;
            }
        }
        let property = (*tenant, new_stream());
        log.property(property, at(12, 1, 8, 0), created("Bonn", 40_000_000))
            .await;
        let mut price = 40_000_000;
        for k in 0..6u32 {
            let to = if k % 3 == 2 {
                price + 700_000
            } else {
                price - 300_000
            };
            let change = price_changed(Some(price), to);
            log.property(property, at(12, 2 + 3 * k, 8, 0), change)
                .await;
            price = to;
        }
        let contact = (*tenant, new_stream());
        log.contact(contact, at(12, 1, 8, 0), contact_created())
            .await;
        for k in 0..8u32 {
            let message = Uuid::now_v7();
            let channel = Channel::ALL[k as usize % 4];
            let when = at(12, 1 + 2 * k, 9, 0);
            log.contact(contact, when, queued(message, channel, when))
                .await;
            if k % 2 == 0 {
                let bounce = bounced(message, channel, k % 4 == 0, when);
                log.contact(contact, when, bounce).await;
            }
        }
    }
}

#[tokio::test]
async fn a_generated_history_reconciles_and_the_latest_snapshot_is_the_open_pipeline() {
    let db = TestDb::new().await;
    let tenants = [db.tenant().await, db.tenant().await];
    write_generated_history(&db, &tenants).await;
    let mut projector = db.projector(Arc::new(Analytics), 7).await;
    catch_up(&mut projector).await;
    assert_reconciles(&db, 1000).await;
    assert_reconciles(&db, 1).await;
    for tenant in tenants {
        // The latest snapshot counts exactly the deals open now.
        let mismatches = db
            .count(&format!(
                "WITH latest AS ( \
                   SELECT stage, currency, deal_count, offer_total_minor FROM rm_analytics.pipeline_by_day \
                   WHERE tenant_id = '{t}' AND deal_count > 0 AND day = \
                     (SELECT max(day) FROM rm_analytics.pipeline_by_day WHERE tenant_id = '{t}')), \
                 now AS ( \
                   SELECT stage, coalesce(currency, 'XXX') AS currency, count(*) AS deal_count, \
                          coalesce(sum(offer_minor), 0)::bigint AS offer_total_minor \
                   FROM rm_analytics.deal_state WHERE tenant_id = '{t}' \
                     AND stage NOT IN ('closed_won', 'closed_lost') GROUP BY 1, 2) \
                 SELECT count(*) FROM ((TABLE latest EXCEPT TABLE now) UNION ALL (TABLE now EXCEPT TABLE latest)) d",
                t = tenant.as_uuid()
            ))
            .await;
        assert_eq!(mismatches, 0);
        let reached: i64 = db
            .count(&format!(
                "SELECT deals_reached FROM rm_analytics.funnel WHERE tenant_id = '{}' AND stage = 'lead'",
                tenant.as_uuid()
            ))
            .await;
        assert_eq!(reached, 12, "every deal starts in lead");
    }
}
