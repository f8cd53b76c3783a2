//! The notification feed through GraphQL: an admin assigns a deal to agent
//! A, who is told over the `notifications` subscription while agent B hears
//! nothing; A's feed lists exactly what happened to A's deal; marking read
//! hides it from `unreadOnly`, survives a rebuild of the read model, and
//! every bad mark is refused storing nothing.

use crate::live::{next_json, subscribed};
use crate::World;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::command;
use deedlog_tests::Session;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const SUBSCRIPTION: &str =
    "subscription { notifications(after: 0) { position kind dealId propertyId actorId read } }";

const FEED: &str = "query($p: Int64!, $unread: Boolean) { atLeast(position: $p) { \
    notifications(first: 10, unreadOnly: $unread) { edges { node { \
      position kind dealId propertyId stageFrom stageTo actorId otherAgentId read \
      actor { userId } property { propertyId } } } } \
    unreadNotificationCount } }";

const MARK: &str = "mutation($k: UUID!, $upTo: Int64!) { markNotificationsRead(command: {idempotencyKey: $k}, upTo: $upTo) { position } }";

/// An `Int64` of an answer (a JSON number or string) as a number.
fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{value} is no Int64"))
}

/// `user`'s feed (all, or only the unread) and unread count once the read
/// models have reached `position`.
async fn feed(w: &World, user: &Session, position: i64, unread: bool) -> (Vec<Value>, i64) {
    let answer = w
        .gql
        .run_as(
            user,
            FEED,
            json!({"p": position.to_string(), "unread": unread}),
        )
        .await;
    let data = &answer.data()["atLeast"];
    let nodes = data["notifications"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    (nodes, int(&data["unreadNotificationCount"]))
}

/// Marks `user`'s feed read up to `up_to`; the answer as it came.
async fn mark(w: &World, user: &Session, up_to: &str) -> deedlog_tests::Answer {
    w.gql
        .run_as(user, MARK, json!({"k": Uuid::now_v7(), "upTo": up_to}))
        .await
}

/// The notification a test expects, computed from the mutations' answers.
fn expected(
    position: i64,
    kind: &str,
    (deal, property, admin): (&Value, &Value, &str),
    stages: Option<(&str, &str)>,
    read: bool,
) -> Value {
    json!({
        "position": position.to_string(),
        "kind": kind,
        "dealId": deal,
        "propertyId": property,
        "stageFrom": stages.map(|s| s.0),
        "stageTo": stages.map(|s| s.1),
        "actorId": admin,
        "otherAgentId": null,
        "read": read,
        "actor": {"userId": admin},
        "property": {"propertyId": property},
    })
}

/// How many `NotificationsRead` events the log holds.
async fn marks_in_log(w: &World) -> i64 {
    count(
        w,
        "SELECT count(*) FROM events WHERE event_type = 'NotificationsRead'",
    )
    .await
}

/// The count `sql` selects from the cluster's database.
async fn count(w: &World, sql: &str) -> i64 {
    use sqlx::ConnectOptions;
    let mut conn = w
        .cluster
        .database_options()
        .connect()
        .await
        .expect("connect");
    sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

#[tokio::test]
async fn an_agent_is_told_of_their_deal_live_reads_it_and_the_read_mark_survives_a_rebuild() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let a = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    let b = w.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let mut a_socket = subscribed(&w, &a, SUBSCRIPTION).await;
    let mut b_socket = subscribed(&w, &b, SUBSCRIPTION).await;

    // The admin opens a deal for A and moves it on.
    let property = w.property_id(&admin).await;
    let contact = w.contact_id(&admin, "Clara Voss").await;
    let opened = w
        .gql
        .run_as(
            &admin,
            "mutation($k: UUID!, $p: UUID!, $b: UUID!, $a: UUID!) { openDeal(command: {idempotencyKey: $k}, input: {propertyId: $p, buyerContactId: $b, agentId: $a}) { recordId position } }",
            json!({"k": Uuid::now_v7(), "p": property, "b": contact, "a": a.user_id}),
        )
        .await;
    let opened = opened.data()["openDeal"].clone();
    let deal = opened["recordId"].clone();
    let moved = w
        .gql
        .run_as(
            &admin,
            "mutation($k: UUID!, $d: UUID!) { moveStage(command: {idempotencyKey: $k}, dealId: $d, stage: QUALIFIED) { position } }",
            json!({"k": Uuid::now_v7(), "d": deal}),
        )
        .await;
    let (opened_at, moved_at) = (
        int(&opened["position"]),
        int(&moved.data()["moveStage"]["position"]),
    );

    // A hears of both, in log order, over the subscription.
    for (position, kind) in [
        (opened_at, "DEAL_ASSIGNED"),
        (moved_at, "DEAL_STAGE_CHANGED"),
    ] {
        let next = next_json(&mut a_socket).await;
        assert_eq!(next["type"], "next", "{next}");
        let got = &next["payload"]["data"]["notifications"];
        assert_eq!(
            got,
            &json!({
                "position": position.to_string(),
                "kind": kind,
                "dealId": deal,
                "propertyId": property,
                "actorId": admin.user_id,
                "read": false,
            }),
        );
    }
    // B hears nothing: the projector has applied both (A was told), and
    // B's subscription reads every half second.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), b_socket.next()).await;
    assert!(quiet.is_err(), "B was sent {quiet:?}");

    // A's feed: exactly the two, newest first; B's is empty.
    let ids = (&deal, &property, admin.user_id.as_str());
    let want = |read: bool| {
        vec![
            expected(
                moved_at,
                "DEAL_STAGE_CHANGED",
                ids,
                Some(("lead", "qualified")),
                read,
            ),
            expected(opened_at, "DEAL_ASSIGNED", ids, None, read),
        ]
    };
    assert_eq!(feed(&w, &a, moved_at, false).await, (want(false), 2));
    assert_eq!(feed(&w, &b, moved_at, false).await, (vec![], 0));

    // Bad marks are refused and store nothing.
    mark(&w, &a, "-1").await.assert_error(
        "BAD_USER_INPUT",
        "upTo: a log position or version is 0 or more",
    );
    mark(&w, &a, "999999999")
        .await
        .assert_error("BAD_USER_INPUT", "beyond the log's head");
    let mut other = w.clients.tenancy.clone();
    let status = other
        .mark_notifications_read(a.request(tenancy::MarkNotificationsReadRequest {
            command: command(),
            user_id: b.user_id.clone(),
            up_to: 1,
        }))
        .await
        .expect_err("another user's inbox");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("only their own"), "{status:?}");
    assert_eq!(marks_in_log(&w).await, 0);

    // A marks both read: unreadOnly hides them, the count drops to 0.
    let marked = mark(&w, &a, &moved_at.to_string()).await;
    let marked_at = int(&marked.data()["markNotificationsRead"]["position"]);
    assert!(marked_at > moved_at, "{marked_at} after {moved_at}");
    assert_eq!(feed(&w, &a, marked_at, true).await, (vec![], 0));
    assert_eq!(feed(&w, &a, marked_at, false).await, (want(true), 0));
    // A lower mark changes nothing (position 0) and appends nothing.
    let again = mark(&w, &a, &opened_at.to_string()).await;
    assert_eq!(int(&again.data()["markNotificationsRead"]["position"]), 0);
    assert_eq!(marks_in_log(&w).await, 1);

    // The read mark is an event: a rebuild from the log keeps it.
    crate::rebuild(&w, "notifications").await;
    assert_eq!(feed(&w, &a, marked_at, true).await, (vec![], 0));
    assert_eq!(feed(&w, &a, marked_at, false).await, (want(true), 0));
    assert_eq!(feed(&w, &b, marked_at, false).await, (vec![], 0));
    // No projection failed on the inbox stream's event.
    let dead = count(&w, "SELECT count(*) FROM deedlog_read.dead_letters").await;
    assert_eq!(dead, 0, "dead letters");
}
