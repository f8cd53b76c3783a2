//! A user's notification feed: newest first page by page, only the unread
//! after their read mark, the unread count, what a live feed resumes from,
//! and nothing of another user's or another tenant's.

use crate::support::*;
use deedlog_deals_domain::{Event as DealEvent, Stage};
use deedlog_kernel::{StreamId, UserId};
use deedlog_read_model::notifications::{self, NotificationRow};
use deedlog_read_model::{Error, Page};
use deedlog_tenancy_domain::inbox::{self, Event as InboxEvent};
use uuid::Uuid;

#[tokio::test]
async fn a_feed_reads_newest_first_page_by_page_and_the_unread_after_the_mark() {
    let db = TestDb::new().await;
    let (tenant, other_tenant) = (db.tenant().await, db.tenant().await);
    let (agent, colleague) = (
        UserId::from_uuid(Uuid::now_v7()),
        UserId::from_uuid(Uuid::now_v7()),
    );
    let deal = new_stream();
    let opened = DealEvent::DealOpened {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent,
        offer: None,
        commission: None,
        expected_close: None,
    };
    // Appended by a fresh user each: five notifications for the agent.
    let mut positions = vec![db.append_at(tenant, deal, "deal", at(1), &[opened]).await];
    let stages = [
        Stage::Lead,
        Stage::Qualified,
        Stage::Viewing,
        Stage::Offer,
        Stage::Negotiation,
    ];
    for (n, pair) in stages.windows(2).enumerate() {
        let moved = DealEvent::StageMoved {
            from: pair[0],
            to: pair[1],
        };
        let when = at(n as i64 + 2);
        positions.push(db.append_at(tenant, deal, "deal", when, &[moved]).await);
    }
    let positions: Vec<i64> = positions
        .into_iter()
        .map(|p| i64::try_from(p).expect("a position"))
        .collect();
    let read = InboxEvent::NotificationsRead {
        user: agent,
        up_to: u64::try_from(positions[1]).expect("a position"),
    };
    let inbox_stream = StreamId::from_uuid(inbox::stream_of(agent));
    db.append_at(
        tenant,
        inbox_stream,
        deedlog_kernel::stream_type::NOTIFICATION_INBOX,
        at(9),
        &[read],
    )
    .await;
    db.project_all().await;

    let mut scope = tenant_scope(&db, tenant).await;
    let user = agent.as_uuid();
    let mut page = Page::first(2);
    let mut seen = Vec::new();
    loop {
        let got = notifications::feed(scope.conn(), user, 0, &page)
            .await
            .expect("feed");
        seen.extend(got.edges.into_iter().map(|e| e.node));
        match (got.page_info.has_next_page, got.page_info.end_cursor) {
            (true, Some(end)) => page = Page::after(2, end),
            _ => break,
        }
    }
    let newest_first: Vec<i64> = positions.iter().rev().copied().collect();
    let at_positions =
        |rows: &[NotificationRow]| rows.iter().map(|r| r.position.0).collect::<Vec<_>>();
    assert_eq!(at_positions(&seen), newest_first);
    assert_eq!(seen[4].kind, "deal_assigned");
    assert!(seen[..4].iter().all(|r| r.kind == "deal_stage_changed"));
    assert_eq!(
        (seen[0].stage_from.as_deref(), seen[0].stage_to.as_deref()),
        (Some("offer"), Some("negotiation"))
    );

    let mark = notifications::read_up_to(scope.conn(), user)
        .await
        .expect("mark");
    assert_eq!(mark, positions[1]);
    let unread = notifications::feed(scope.conn(), user, mark, &Page::first(10))
        .await
        .expect("unread");
    let unread: Vec<NotificationRow> = unread.edges.into_iter().map(|e| e.node).collect();
    assert_eq!(at_positions(&unread), newest_first[..3].to_vec());
    assert_eq!(
        notifications::unread_count(scope.conn(), user)
            .await
            .expect("count"),
        3
    );
    let resumed = notifications::since(scope.conn(), user, positions[2], 10)
        .await
        .expect("since");
    assert_eq!(at_positions(&resumed), positions[3..].to_vec());
    assert_eq!(
        notifications::latest_position(scope.conn(), user)
            .await
            .expect("latest"),
        positions[4]
    );
    let bad = notifications::feed(scope.conn(), user, 0, &Page::after(2, "x")).await;
    assert!(
        matches!(bad, Err(Error::BadInput { field: "after", .. })),
        "{bad:?}"
    );

    // A colleague has none, and reads no one else's.
    let theirs = colleague.as_uuid();
    let none = notifications::feed(scope.conn(), theirs, 0, &Page::first(10))
        .await
        .expect("feed");
    assert!(none.edges.is_empty());
    assert_eq!(
        notifications::unread_count(scope.conn(), theirs)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        notifications::read_up_to(scope.conn(), theirs)
            .await
            .expect("mark"),
        0
    );
    scope.finish().await.expect("finish");

    // Another tenant's scope sees none of the agent's rows.
    let mut scope = tenant_scope(&db, other_tenant).await;
    let none = notifications::feed(scope.conn(), user, 0, &Page::first(10))
        .await
        .expect("feed");
    assert!(none.edges.is_empty());
    assert_eq!(
        notifications::unread_count(scope.conn(), user)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        notifications::latest_position(scope.conn(), user)
            .await
            .expect("latest"),
        0
    );
}
