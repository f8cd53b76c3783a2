//! The notifications read model: who is notified of what, never of their
//! own action; read marks from the inbox streams; the same rows event by
//! event as in batches, after a rebuild, and in a clean reconciliation.

use crate::support::*;
use chrono::{DateTime, TimeZone, Utc};
use deedlog_communications_domain::{Channel, Event as ContactEvent};
use deedlog_deals_domain::{Event as DealEvent, Stage};
use deedlog_kernel::{StreamId, TenantId, UserId};
use deedlog_projector::projections::notifications::Notifications;
use deedlog_projector::{rebuild, Projection};
use deedlog_properties_domain::Event as PropertyEvent;
use deedlog_tenancy_domain::inbox::{self, Event as InboxEvent};
use std::sync::Arc;
use uuid::Uuid;

/// The instant of the `n`-th step of the history (one minute apart).
fn at(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, n, 0)
        .single()
        .expect("instant")
}

fn user() -> UserId {
    UserId::from_uuid(Uuid::now_v7())
}

fn actor(user: UserId) -> String {
    format!("user:{user}")
}

/// A property created with `agent`.
fn property_for(agent: Option<UserId>) -> PropertyEvent {
    match created("Berlin", 50_000_000) {
        PropertyEvent::PropertyCreated {
            address,
            kind,
            attributes,
            asking_price,
            owner,
            tags,
            ..
        } => PropertyEvent::PropertyCreated {
            address,
            kind,
            attributes,
            asking_price,
            agent,
            owner,
            tags,
        },
        other => other,
    }
}

fn opened(property: StreamId, agent: UserId) -> DealEvent {
    DealEvent::DealOpened {
        property: property.as_uuid(),
        buyer: Uuid::now_v7(),
        agent,
        offer: Some(eur(1_000_000)),
        commission: None,
        expected_close: None,
    }
}

fn moved(from: Stage, to: Stage) -> DealEvent {
    DealEvent::StageMoved { from, to }
}

fn queued(conversation: Uuid, deal: StreamId) -> ContactEvent {
    ContactEvent::MessageQueued {
        message_id: Uuid::now_v7(),
        conversation_id: conversation,
        channel: Channel::Email,
        subject: Some("Viewing".into()),
        body: "Would Saturday suit you?".into(),
        property: None,
        deal: Some(deal.as_uuid()),
        at: at(0),
    }
}

fn reply(conversation: Uuid, message: Uuid) -> ContactEvent {
    ContactEvent::ReplyReceived {
        message_id: message,
        in_reply_to: None,
        conversation_id: conversation,
        channel: Channel::Email,
        body: "Saturday works for me.".into(),
        provider_event_id: format!("inbound_{}", Uuid::now_v7().simple()),
        at: at(0),
    }
}

fn read(user: UserId, up_to: i64) -> InboxEvent {
    InboxEvent::NotificationsRead {
        user,
        up_to: u64::try_from(up_to).expect("a position"),
    }
}

/// What a test checks of a notification row: recipient, position, kind,
/// actor, deal, property, stage from and to, amounts from and to, and the
/// other agent.
type Seen = (
    Uuid,
    i64,
    String,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<Uuid>,
);

/// A notification as the test expects it, the optional parts left empty.
fn seen(recipient: UserId, position: i64, kind: &str, actor: Option<UserId>) -> Seen {
    (
        recipient.as_uuid(),
        position,
        kind.to_owned(),
        actor.map(|a| a.as_uuid()),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    )
}

/// The history and what it should notify, computed by hand.
struct History {
    tenant: TenantId,
    a: UserId,
    b: UserId,
    expected: Vec<Seen>,
    /// (user, read up to) after the inbox events.
    marks: Vec<(Uuid, i64)>,
    /// The two replies: (position, recipient, contact, conversation, message).
    replies: Vec<(i64, Uuid, Uuid, Uuid, Uuid)>,
}

/// Appends `events` by `by` at step `n`; returns the last position.
async fn append<E: serde::Serialize + deedlog_kernel::DomainEvent>(
    db: &TestDb,
    tenant: TenantId,
    (stream, stream_type): (StreamId, &str),
    by: &str,
    n: u32,
    events: &[E],
) -> i64 {
    let metadata = metadata_by(tenant, by, at(n));
    let position = db
        .append_to(tenant, stream, stream_type, events, metadata)
        .await;
    i64::try_from(position).expect("a position")
}

/// An admin assigns a property and a deal to agent A, moves the deal and
/// reprices the property; A works the deal themself; a contact replies on
/// A's conversation about the deal; the admin hands deal and property to
/// agent B; the deal is won, reopened and lost; an unassigned property is
/// repriced; A and B mark their feeds read.
async fn write_history(db: &TestDb) -> History {
    use deedlog_kernel::stream_type::{CONTACT, DEAL, NOTIFICATION_INBOX, PROPERTY};
    use Stage::*;
    let tenant = db.tenant().await;
    let (admin, a, b) = (user(), user(), user());
    let (by_admin, by_a, webhook) = (actor(admin), actor(a), "system:webhook".to_owned());
    let (p, p2, d, d2, c) = (
        new_stream(),
        new_stream(),
        new_stream(),
        new_stream(),
        new_stream(),
    );
    let conversation = Uuid::now_v7();
    let (first_reply, second_reply) = (Uuid::now_v7(), Uuid::now_v7());
    let mut expected = Vec::new();
    let (deal, property) = (Some(d.as_uuid()), Some(p.as_uuid()));
    let s = |text: &str| Some(text.to_owned());

    let n = append(
        db,
        tenant,
        (p, PROPERTY),
        &by_admin,
        1,
        &[property_for(Some(a))],
    )
    .await;
    let mut row = seen(a, n, "property_assigned", Some(admin));
    row.5 = property;
    expected.push(row);

    let n = append(db, tenant, (d, DEAL), &by_admin, 2, &[opened(p, a)]).await;
    let mut row = seen(a, n, "deal_assigned", Some(admin));
    (row.4, row.5) = (deal, property);
    expected.push(row);

    // A opens a deal for themself: no notification.
    append(db, tenant, (d2, DEAL), &by_a, 3, &[opened(p, a)]).await;

    let n = append(
        db,
        tenant,
        (d, DEAL),
        &by_admin,
        4,
        &[moved(Lead, Qualified)],
    )
    .await;
    let mut row = seen(a, n, "deal_stage_changed", Some(admin));
    (row.4, row.5, row.6, row.7) = (deal, property, s("lead"), s("qualified"));
    expected.push(row);

    // A moves their own deal: no notification.
    append(
        db,
        tenant,
        (d, DEAL),
        &by_a,
        5,
        &[moved(Qualified, Viewing)],
    )
    .await;

    let repriced = PropertyEvent::AskingPriceChanged {
        from: Some(eur(50_000_000)),
        to: eur(48_000_000),
    };
    let n = append(db, tenant, (p, PROPERTY), &by_admin, 6, &[repriced]).await;
    let mut row = seen(a, n, "asking_price_changed", Some(admin));
    (row.5, row.8, row.9) = (property, Some(50_000_000), Some(48_000_000));
    expected.push(row);

    // A writes to the contact about the deal (their own action), the
    // contact replies through the provider's webhook (a system actor).
    append(
        db,
        tenant,
        (c, CONTACT),
        &by_a,
        7,
        &[queued(conversation, d)],
    )
    .await;
    let n = append(
        db,
        tenant,
        (c, CONTACT),
        &webhook,
        8,
        &[reply(conversation, first_reply)],
    )
    .await;
    let mut row = seen(a, n, "reply_received", None);
    (row.4, row.5) = (deal, property);
    expected.push(row);
    let mut replies = vec![(n, a.as_uuid(), c.as_uuid(), conversation, first_reply)];

    let reassigned = DealEvent::DealReassigned { from: a, to: b };
    let handed_over = append(db, tenant, (d, DEAL), &by_admin, 9, &[reassigned]).await;
    let mut row = seen(b, handed_over, "deal_assigned", Some(admin));
    (row.4, row.5, row.10) = (deal, property, Some(a.as_uuid()));
    expected.push(row);
    let mut row = seen(a, handed_over, "deal_reassigned_away", Some(admin));
    (row.4, row.5, row.10) = (deal, property, Some(b.as_uuid()));
    expected.push(row);

    // The next reply goes to the deal's new agent.
    let n = append(
        db,
        tenant,
        (c, CONTACT),
        &webhook,
        10,
        &[reply(conversation, second_reply)],
    )
    .await;
    let mut row = seen(b, n, "reply_received", None);
    (row.4, row.5) = (deal, property);
    expected.push(row);
    replies.push((n, b.as_uuid(), c.as_uuid(), conversation, second_reply));

    let assigned = PropertyEvent::AgentAssigned {
        from: Some(a),
        to: b,
    };
    let n = append(db, tenant, (p, PROPERTY), &by_admin, 11, &[assigned]).await;
    let mut row = seen(b, n, "property_assigned", Some(admin));
    (row.5, row.10) = (property, Some(a.as_uuid()));
    expected.push(row);
    let mut row = seen(a, n, "property_reassigned_away", Some(admin));
    (row.5, row.10) = (property, Some(b.as_uuid()));
    expected.push(row);

    let won = DealEvent::DealWon {
        from: Viewing,
        final_price: eur(1_150_000),
    };
    let n = append(db, tenant, (d, DEAL), &by_admin, 12, &[won]).await;
    let mut row = seen(b, n, "deal_stage_changed", Some(admin));
    (row.4, row.5, row.6, row.7) = (deal, property, s("viewing"), s("closed_won"));
    row.9 = Some(1_150_000);
    expected.push(row);

    let reopened = DealEvent::DealReopened { to: Viewing };
    let n = append(db, tenant, (d, DEAL), &by_admin, 13, &[reopened]).await;
    let mut row = seen(b, n, "deal_stage_changed", Some(admin));
    (row.4, row.5, row.6, row.7) = (deal, property, s("closed_won"), s("viewing"));
    expected.push(row);

    let lost = DealEvent::DealLost {
        from: Viewing,
        reason: "financing fell through".into(),
    };
    let n = append(db, tenant, (d, DEAL), &by_admin, 14, &[lost]).await;
    let mut row = seen(b, n, "deal_stage_changed", Some(admin));
    (row.4, row.5, row.6, row.7) = (deal, property, s("viewing"), s("closed_lost"));
    expected.push(row);

    // An unassigned property is repriced: nobody to notify.
    append(
        db,
        tenant,
        (p2, PROPERTY),
        &by_admin,
        15,
        &[property_for(None)],
    )
    .await;
    let repriced = PropertyEvent::AskingPriceChanged {
        from: Some(eur(50_000_000)),
        to: eur(51_000_000),
    };
    append(db, tenant, (p2, PROPERTY), &by_admin, 16, &[repriced]).await;

    // A reads up to the handover; B up to the second reply, and then a
    // mark below it, which leaves B's mark where it was.
    let inbox = |u: UserId| (StreamId::from_uuid(inbox::stream_of(u)), NOTIFICATION_INBOX);
    append(db, tenant, inbox(a), &by_a, 17, &[read(a, handed_over)]).await;
    let second = replies[1].0;
    let by_b = actor(b);
    append(
        db,
        tenant,
        inbox(b),
        &by_b,
        18,
        &[read(b, second), read(b, 2)],
    )
    .await;

    expected.sort_by_key(|row| (row.1, row.0));
    History {
        tenant,
        a,
        b,
        expected,
        marks: vec![(a.as_uuid(), handed_over), (b.as_uuid(), second)],
        replies,
    }
}

async fn notifications(db: &TestDb, tenant: TenantId) -> Vec<Seen> {
    sqlx::query_as(
        "SELECT recipient_id, position, kind, actor_id, deal_id, property_id, stage_from, \
                stage_to, amount_from_minor, amount_to_minor, other_agent_id \
         FROM rm_notifications.notifications WHERE tenant_id = $1 ORDER BY position, recipient_id",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("notifications")
}

async fn assert_history(db: &TestDb, h: &History) {
    let actual = notifications(db, h.tenant).await;
    for (i, (got, want)) in actual.iter().zip(&h.expected).enumerate() {
        assert_eq!(got, want, "notification {i}");
    }
    assert_eq!(actual.len(), h.expected.len(), "number of notifications");

    let replies: Vec<(i64, Uuid, Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT position, recipient_id, contact_id, conversation_id, message_id \
         FROM rm_notifications.notifications WHERE tenant_id = $1 AND kind = 'reply_received' \
         ORDER BY position",
    )
    .bind(h.tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("replies");
    assert_eq!(replies, h.replies);

    let currencies: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT currency FROM rm_notifications.notifications \
         WHERE tenant_id = $1 AND amount_to_minor IS NOT NULL ORDER BY position",
    )
    .bind(h.tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("currencies");
    assert_eq!(currencies, [Some("EUR".to_owned()), Some("EUR".to_owned())]);

    let marks: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT user_id, read_up_to FROM rm_notifications.read_marks \
         WHERE tenant_id = $1 ORDER BY read_up_to",
    )
    .bind(h.tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("read marks");
    assert_eq!(marks, h.marks);
    let _ = (h.a, h.b);
}

/// Projects the history in batches of `batch`, checks it against the
/// hand-computed notifications, rebuilds (read marks come back from the
/// log) and reconciles.
async fn project_history(batch: u32) {
    let db = TestDb::new().await;
    let h = write_history(&db).await;
    let projection: Arc<dyn Projection> = Arc::new(Notifications);
    let mut projector = db.projector(projection.clone(), batch).await;
    catch_up(&mut projector).await;
    assert_history(&db, &h).await;
    let live = schema_rows(&db, "rm_notifications").await;

    rebuild::rebuild(&db.pool, &db.reader, projection.clone(), 1000, &mut |_| {})
        .await
        .expect("rebuild");
    assert_same_rows(&schema_rows(&db, "rm_notifications").await, &live);
    assert_history(&db, &h).await;

    assert_reconciles_clean(&db, projection, 7).await;
}

#[tokio::test]
async fn each_kind_goes_to_the_agent_and_never_to_the_one_who_acted() {
    project_history(1000).await;
}

#[tokio::test]
async fn event_by_event_gives_the_same_rows_and_a_rebuild_keeps_the_read_marks() {
    project_history(1).await;
}

#[tokio::test]
async fn another_tenant_sees_none_of_them() {
    let db = TestDb::new().await;
    let h = write_history(&db).await;
    let other = db.tenant().await;
    let mut projector = db.projector(Arc::new(Notifications), 100).await;
    catch_up(&mut projector).await;
    assert!(notifications(&db, other).await.is_empty());
    assert!(!notifications(&db, h.tenant).await.is_empty());
}

#[tokio::test]
async fn a_reply_about_a_property_only_goes_to_its_agent_and_an_unlinked_one_to_nobody() {
    use deedlog_kernel::stream_type::{CONTACT, PROPERTY};
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (admin, a) = (actor(user()), user());
    let (p, c) = (new_stream(), new_stream());
    // Created without an agent, then assigned: an assignment with no one before.
    append(&db, tenant, (p, PROPERTY), &admin, 1, &[property_for(None)]).await;
    let assigned = PropertyEvent::AgentAssigned { from: None, to: a };
    let assigned_at = append(&db, tenant, (p, PROPERTY), &admin, 2, &[assigned]).await;
    let (about_property, unlinked) = (Uuid::now_v7(), Uuid::now_v7());
    let queued = ContactEvent::MessageQueued {
        message_id: Uuid::now_v7(),
        conversation_id: about_property,
        channel: Channel::Email,
        subject: None,
        body: "The exposé is attached.".into(),
        property: Some(p.as_uuid()),
        deal: None,
        at: at(3),
    };
    append(&db, tenant, (c, CONTACT), &admin, 3, &[queued]).await;
    let webhook = "system:webhook";
    let replied_at = append(
        &db,
        tenant,
        (c, CONTACT),
        webhook,
        4,
        &[reply(about_property, Uuid::now_v7())],
    )
    .await;
    // A reply on a conversation no queued message linked: nobody to tell.
    append(
        &db,
        tenant,
        (c, CONTACT),
        webhook,
        5,
        &[reply(unlinked, Uuid::now_v7())],
    )
    .await;

    let mut projector = db.projector(Arc::new(Notifications), 100).await;
    catch_up(&mut projector).await;
    let admin_id = admin
        .strip_prefix("user:")
        .and_then(|id| Uuid::parse_str(id).ok());
    let mut assignment = seen(a, assigned_at, "property_assigned", None);
    (assignment.3, assignment.5) = (admin_id, Some(p.as_uuid()));
    let mut replied = seen(a, replied_at, "reply_received", None);
    replied.5 = Some(p.as_uuid());
    assert_eq!(notifications(&db, tenant).await, vec![assignment, replied]);
    assert_reconciles_clean(&db, Arc::new(Notifications), 2).await;
}
