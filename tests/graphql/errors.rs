//! How failures reach a GraphQL client: always in GraphQL's error shape,
//! with `extensions.code` and `extensions.retryable`; a rule's refusal and
//! a conflict with the services' stable `reason` and its `details`; a body
//! that is no single GraphQL request refused with a code, not with text.

use crate::{far_ahead, World};
use deedlog_cluster::Component;
use deedlog_tests::clients::mia_berg;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const STATUS: &str = "mutation($k: UUID!, $p: UUID!, $v: Int64) { changeListingStatus(command: {idempotencyKey: $k, expectedVersion: $v}, propertyId: $p, status: SOLD) { version } }";

#[tokio::test]
async fn a_refusal_and_a_conflict_carry_their_reason_and_details() {
    let (w, admin) = World::with_tenant("berg").await;
    let property = w.property_id(&admin).await;
    let refused = w
        .gql
        .refused_as(
            &admin,
            STATUS,
            json!({"k": Uuid::now_v7(), "p": property}),
            "RULE_REFUSED",
            "cannot move from draft to sold",
        )
        .await;
    let extensions = &refused.body["errors"][0]["extensions"];
    assert_eq!(
        extensions["reason"], "LISTING_MOVE_NOT_ALLOWED",
        "{extensions}"
    );
    assert_eq!(
        extensions["details"],
        json!({"allowed": "active", "from": "draft", "to": "sold"})
    );
    assert_eq!(extensions["retryable"], false);

    let conflict = w
        .gql
        .refused_as(
            &admin,
            STATUS,
            json!({"k": Uuid::now_v7(), "p": property, "v": 9}),
            "CONFLICT",
            "version",
        )
        .await;
    let extensions = &conflict.body["errors"][0]["extensions"];
    assert_eq!(extensions["reason"], "VERSION_CONFLICT", "{extensions}");
    assert_eq!(extensions["details"]["expectedVersion"], "9");
    assert_eq!(extensions["details"]["actualVersion"], "1");
    assert_eq!(extensions["details"]["recordId"], property);
}

#[tokio::test]
async fn a_refused_message_answers_with_its_reasons_and_log_position() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let contact = w.clients.contact_with(&admin, mia_berg()).await;
    let refused = w
        .gql
        .refused_as(
            &admin,
            "mutation($k: UUID!, $c: UUID!) { sendMessage(command: {idempotencyKey: $k}, input: {contactId: $c, channel: EMAIL, subject: \"Viewing\", body: \"Viewing on Friday\"}) { messageId } }",
            json!({"k": Uuid::now_v7(), "c": contact}),
            "RULE_REFUSED",
            "message refused",
        )
        .await;
    let extensions = &refused.body["errors"][0]["extensions"];
    assert_eq!(extensions["reason"], "MESSAGE_REFUSED", "{extensions}");
    let details = &extensions["details"];
    assert!(
        details["reasons"]
            .as_str()
            .is_some_and(|r| r.split(',').any(|code| code == "no_consent")),
        "{details}"
    );
    assert_eq!(details["recordId"], contact);
    let message_id = details["messageId"].as_str().expect("a message id");
    assert_eq!(details["conversationId"], message_id);
    let position: u64 = details["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("a position");
    let (event_type, _) = deedlog_tests::LogCounts::event_at(&w.cluster, position).await;
    assert_eq!(event_type, "MessageRefused");
}

#[tokio::test]
async fn a_read_model_behind_and_a_service_away_are_unavailable_and_retryable() {
    let components = [
        Component::Tenancy,
        Component::Deals,
        Component::Communications,
        Component::Projector,
        Component::Gateway,
    ];
    let cluster = deedlog_tests::TestCluster::start_components_with(&components, |f| {
        f.merge(("gateway.properties_url", "http://127.0.0.1:1"))
    })
    .await;
    let gql = deedlog_tests::Gql::new(&cluster.url(Component::Gateway));
    let mut clients = deedlog_tests::Clients::at(|c| match c {
        Component::Properties => "http://127.0.0.1:1".to_owned(),
        other => cluster.url(other),
    });
    let admin = clients.register("berg").await;
    let away = gql
        .refused_as(
            &admin,
            crate::CREATE_PROPERTY,
            json!({"key": Uuid::now_v7(), "city": "Berlin", "price": 1_000}),
            "UNAVAILABLE",
            "retry shortly",
        )
        .await;
    assert_eq!(away.body["errors"][0]["extensions"]["retryable"], true);
    assert!(
        !away.message().contains("127.0.0.1"),
        "no transport detail: {}",
        away.message()
    );

    let behind = far_ahead(&gql, &admin, 100).await;
    assert_eq!(behind.body["errors"][0]["extensions"]["retryable"], true);
}

/// The status, content type and body of a raw POST to `/graphql`.
async fn post(
    w: &World,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String, Value) {
    let response = w
        .gql
        .http()
        .post(&w.gql.endpoint)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON, not {text:?}"));
    (status, kind, body)
}

#[track_caller]
fn assert_refused(answer: &(u16, String, Value), status: u16, text: &str) {
    let (got, kind, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert!(kind.contains("json"), "{kind}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(text), "expected {text:?} in {message:?}");
}

#[tokio::test]
async fn bodies_that_are_no_single_graphql_request_are_refused_in_graphql_shape() {
    let w = World::with(|f| f.merge(("gateway.max_body_bytes", 4096))).await;
    let json = "application/json";
    assert_refused(&post(&w, json, "{\"query\": ").await, 400, "not valid JSON");
    assert_refused(
        &post(&w, json, "{\"q\": 1}").await,
        400,
        "not a GraphQL request",
    );
    assert_refused(
        &post(
            &w,
            json,
            r#"[{"query": "{ __typename }"}, {"query": "{ __typename }"}]"#,
        )
        .await,
        400,
        "batched requests are not supported",
    );
    assert_refused(
        &post(&w, "text/plain", r#"{"query": "{ __typename }"}"#).await,
        415,
        "application/json",
    );
    let huge = json!({"query": format!("{{ __typename }} #{}", "x".repeat(8192))}).to_string();
    assert_refused(
        &post(&w, json, huge.clone()).await,
        413,
        "larger than the limit of 4096 bytes",
    );

    // Without a declared length (chunked), the limit holds while reading.
    let url = reqwest::Url::parse(&w.gql.endpoint).expect("url");
    let address = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().expect("port")
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        url.host_str().expect("host")
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in huge.as_bytes().chunks(1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break; // answered and closed before the end: fine
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
    assert!(answer.contains("larger than the limit"), "{answer}");

    // A good request still works.
    let (status, _, body) = post(&w, json, r#"{"query": "{ __typename }"}"#).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );
}
