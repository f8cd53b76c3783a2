//! Live parts: a subscription over graphql-transport-ws receives the
//! tenant's activity; provider webhooks are verified and recorded.

use crate::{create_property, World};
use deedlog_gateway::webhooks::sign;
use deedlog_proto::communications::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{command, PASSWORD};
use deedlog_tests::fixtures::{clara_voss, consent, email, suspend};
use deedlog_tests::Session;
use futures::{SinkExt, StreamExt};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_subscription_receives_the_tenants_activity_and_not_another_tenants() {
    let (mut w, berg) = World::with_tenant("berg").await;
    let voss = w.clients.register("voss").await;
    let mut socket = subscribed(
        &w,
        &berg,
        "subscription { activity(after: 0, kinds: [PROPERTY]) { position streamType eventType text } }",
    )
    .await;
    // Another tenant's activity first, then ours: only ours arrives.
    create_property(&w.gql, &voss.access, "Hamburg", 1).await;
    let mine = create_property(&w.gql, &berg.access, "Berlin", 2).await;
    let next = next_json(&mut socket).await;
    assert_eq!(next["type"], "next", "{next}");
    let entry = &next["payload"]["data"]["activity"];
    assert_eq!(entry["streamType"], "property");
    assert_eq!(entry["eventType"], "PropertyCreated");
    assert_eq!(entry["position"], mine["position"]);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to the gateway speaking graphql-transport-ws.
async fn connect(w: &World) -> Socket {
    let ws_url = w.gql.endpoint.replace("http://", "ws://") + "/ws";
    let mut request = ws_url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connects")
        .0
}

/// `connection_init`'s payload carrying `token`.
fn bearer(token: &str) -> Value {
    json!({"authorization": format!("Bearer {token}")})
}

/// Sends `message` as a text frame.
async fn send_json(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// A socket `user` opened, had acknowledged and subscribed to `query` with
/// id "1".
pub(crate) async fn subscribed(w: &World, user: &Session, query: &str) -> Socket {
    let mut socket = connect(w).await;
    let init = json!({"type": "connection_init", "payload": bearer(&user.access)});
    send_json(&mut socket, init).await;
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    send_json(&mut socket, subscribe).await;
    socket
}

/// The socket's next message, within 20 s; panics if the socket ends first.
async fn next_message<S>(socket: &mut S) -> Message
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(std::time::Duration::from_secs(20), socket.next())
        .await
        .expect("a message within 20 s")
        .expect("the socket still open (a close frame before the end)")
        .expect("a message")
}

/// The close code and reason the server ends the socket with; panics on
/// any other message (a `connection_ack` above all).
async fn closed_with<S>(socket: &mut S) -> (u16, String)
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = next_message(socket).await;
        match message {
            Message::Close(Some(frame)) => return (frame.code.into(), frame.reason.to_string()),
            Message::Close(None) => panic!("closed without a code"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected the socket to be closed, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn connection_init_without_a_usable_token_is_closed_never_acknowledged() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let gone = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    w.clients
        .tenancy
        .deactivate_user(admin.request(tenancy::DeactivateUserRequest {
            command: command(),
            user_id: gone.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    let cases = [
        (json!({"type": "connection_init"}), 4401, "no access token"),
        (
            json!({"type": "connection_init", "payload": {}}),
            4401,
            "no access token",
        ),
        (
            json!({"type": "connection_init", "payload": bearer("garbage")}),
            4401,
            "malformed",
        ),
        (
            json!({"type": "connection_init", "payload": bearer(&gone.access)}),
            4401,
            "deactivated",
        ),
        (
            json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { activity { position } }"}}),
            4401,
            "connection_init first",
        ),
    ];
    for (first, code, text) in cases {
        let mut socket = connect(&w).await;
        send_json(&mut socket, first.clone()).await;
        let (closed, reason) = closed_with(&mut socket).await;
        assert_eq!(closed, code, "{first}: {reason}");
        assert!(
            reason.contains(text),
            "{first}: expected {text:?} in {reason:?}"
        );
    }

    // A genuine token of a suspended tenant's agent: 4403, Forbidden.
    let agent = w.colleague(&admin, tenancy::Role::Agent, "abe").await;
    w.clients
        .tenancy
        .suspend_tenant(admin.request(suspend(&admin.tenant_id)))
        .await
        .expect("suspend");
    let mut socket = connect(&w).await;
    let init = json!({"type": "connection_init", "payload": bearer(&agent.access)});
    send_json(&mut socket, init).await;
    let (closed, reason) = closed_with(&mut socket).await;
    assert_eq!(closed, 4403, "{reason}");
    assert!(reason.contains("suspended"), "{reason}");

    // The admin's valid token is acknowledged.
    let mut socket = connect(&w).await;
    let init = json!({"type": "connection_init", "payload": bearer(&admin.access)});
    send_json(&mut socket, init).await;
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
}

pub(crate) async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = next_message(socket).await;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("json");
        }
    }
}

const SECRET: &str = "whsec-test-secret";

#[tokio::test]
async fn webhooks_are_verified_recorded_once_and_refused_when_unsigned_wrong_stale_or_replayed() {
    let mut w = World::with(|f| {
        f.merge(("gateway.webhooks.mailer.secret", SECRET))
            .merge(("gateway.webhooks.mailer.tenant_slug", "berg"))
            .merge(("gateway.webhooks.mailer.email", "mailer@berg.example"))
            .merge(("gateway.webhooks.mailer.password", PASSWORD))
    })
    .await;
    let admin = w.clients.register("berg").await;
    w.clients
        .colleague(&admin, tenancy::Role::Agent, "mailer")
        .await;
    let details = pb::ContactDetails {
        phone: String::new(),
        ..clara_voss()
    };
    let contact = w.clients.contact_with(&admin, details).await;
    let c = &mut w.clients.communications;
    c.grant_consent(admin.request(consent(&contact, pb::Channel::Email)))
        .await
        .expect("consent");
    let sent = c
        .send_message(admin.request(email(&contact, "Viewing", "Friday at 10")))
        .await
        .expect("sent")
        .into_inner();

    let base = w.gql.endpoint.trim_end_matches("/graphql").to_owned();
    let url = format!("{base}/webhooks/mailer");
    let report = json!({"type": "delivered", "id": "evt-1", "contact_id": contact, "message_id": sent.message_id}).to_string();
    let now = chrono::Utc::now().timestamp();
    let secret = SecretString::from(SECRET);
    let post = |url: String, body: String, headers: Vec<(&'static str, String)>| {
        let mut request = w
            .gql
            .http()
            .post(url)
            .body(body)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let signed = |ts: i64, body: &str| {
        vec![
            ("x-deedlog-timestamp", ts.to_string()),
            ("x-deedlog-signature", sign(&secret, ts, body.as_bytes())),
        ]
    };

    let (status, body) = post(url.clone(), report.clone(), vec![]).await;
    assert_eq!(
        (
            status,
            body["error"].as_str().map(|e| e.contains("unsigned"))
        ),
        (401, Some(true))
    );
    let mut wrong = signed(now, &report);
    wrong[1].1 = sign(&SecretString::from("guess"), now, report.as_bytes());
    let (status, body) = post(url.clone(), report.clone(), wrong).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("wrong signature"))
    );
    let (status, body) = post(url.clone(), report.clone(), signed(now - 301, &report)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("stale")));
    let (status, _) = post(
        format!("{base}/webhooks/nobody"),
        report.clone(),
        signed(now, &report),
    )
    .await;
    assert_eq!(status, 404);
    let garbage = "{\"type\": \"exploded\"}".to_owned();
    let (status, body) = post(url.clone(), garbage.clone(), signed(now, &garbage)).await;
    assert_eq!(status, 400, "{body}");

    // Nothing so far was recorded: the message is only queued.
    let query = "query($p: Int64!, $id: UUID!) { atLeast(position: $p) { contact(id: $id) { messages { edges { node { status deliveredAt } } } } } }";
    let read = |position: u64| {
        let gql = w.gql.clone();
        let token = admin.access.clone();
        let contact = contact.clone();
        async move {
            gql.run(
                Some(&token),
                query,
                json!({"p": position.to_string(), "id": contact}),
            )
            .await
            .data()["atLeast"]["contact"]["messages"]["edges"][0]["node"]
                .clone()
        }
    };
    let before = read(sent.reply.as_ref().expect("reply").position).await;
    assert!(before["deliveredAt"].is_null(), "{before}");

    let headers = signed(now, &report);
    let (status, first) = post(url.clone(), report.clone(), headers.clone()).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["duplicate"], false);
    let after = read(first["position"].as_u64().expect("position")).await;
    assert!(after["deliveredAt"].is_string(), "{after}");
    // The very same request again is a replay.
    let (status, body) = post(url.clone(), report.clone(), headers).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("already received"))
    );
    // The same report re-sent later (new signature) is recorded once.
    let (status, again) = post(url.clone(), report.clone(), signed(now + 1, &report)).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["position"], first["position"]);
}

#[tokio::test]
async fn a_subscription_ends_when_its_user_is_deactivated() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let agent = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    let mut socket = subscribed(
        &w,
        &agent,
        "subscription { activity(after: 0, kinds: [PROPERTY]) { position } }",
    )
    .await;
    create_property(&w.gql, &admin.access, "Berlin", 1).await;
    let first = next_json(&mut socket).await;
    assert_eq!(first["type"], "next", "{first}");
    w.clients
        .tenancy
        .deactivate_user(admin.request(tenancy::DeactivateUserRequest {
            command: command(),
            user_id: agent.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    create_property(&w.gql, &admin.access, "Hamburg", 2).await;
    // Nothing more is sent to the deactivated user: the subscription completes.
    let end = next_json(&mut socket).await;
    assert_eq!(end["type"], "complete", "{end}");
    assert_eq!(end["id"], "1", "{end}");
}
