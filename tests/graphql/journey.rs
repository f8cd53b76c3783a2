//! A full journey through the gateway only: a brokerage signs up, invites
//! and activates an agent, lists properties, opens and moves a deal,
//! records consent and sends a message; it sees all of it in queries, the
//! timeline, analytics and the audit history, and `asOf` an earlier instant.

use crate::World;
use deedlog_tests::Gql;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "a long and careful passphrase";

async fn ok(gql: &Gql, token: Option<&str>, query: &str, variables: Value) -> Value {
    gql.run(token, query, variables).await.data().clone()
}

fn key() -> Value {
    json!({ "idempotencyKey": Uuid::now_v7() })
}

#[tokio::test]
async fn a_brokerage_works_through_the_gateway_and_an_auditor_replays_it() {
    let w = World::start().await;
    let gql = &w.gql;
    let signed_up = ok(
        gql,
        None,
        "mutation($c: CommandInput!) { registerTenant(command: $c, input: {name: \"Berg Immobilien\", slug: \"berg\", adminEmail: \"anna@berg.example\", adminDisplayName: \"Anna Berg\", adminPassword: \"a long and careful passphrase\"}) { tenantId adminUserId result { version } } }",
        json!({"c": key()}),
    )
    .await;
    assert_eq!(signed_up["registerTenant"]["result"]["version"], "1");
    let login = "mutation($e: String!, $p: String!) { login(tenantSlug: \"berg\", email: $e, password: $p) { accessToken userId } }";
    let admin = ok(
        gql,
        None,
        login,
        json!({"e": "anna@berg.example", "p": PASSWORD}),
    )
    .await["login"]
        .clone();
    let admin_token = admin["accessToken"].as_str().expect("token").to_owned();
    let a = Some(admin_token.as_str());

    let invited = ok(
        gql,
        a,
        "mutation($c: CommandInput!) { inviteUser(command: $c, email: \"ben@berg.example\", displayName: \"Ben Kurz\", role: AGENT) { invitationToken userId } }",
        json!({"c": key()}),
    )
    .await;
    let invitation = invited["inviteUser"]["invitationToken"].clone();
    ok(
        gql,
        None,
        "mutation($c: CommandInput!, $t: String!, $p: String!) { acceptInvitation(command: $c, invitationToken: $t, password: $p) { version } }",
        json!({"c": key(), "t": invitation, "p": PASSWORD}),
    )
    .await;
    let agent = ok(
        gql,
        None,
        login,
        json!({"e": "ben@berg.example", "p": PASSWORD}),
    )
    .await["login"]
        .clone();
    let agent_token = agent["accessToken"].as_str().expect("token").to_owned();
    let b = Some(agent_token.as_str());

    let created = crate::create_property(gql, &agent_token, "Berlin", 45_000_000).await;
    let property = created["recordId"].clone();
    ok(
        gql,
        b,
        "mutation($c: CommandInput!, $id: UUID!) { changeListingStatus(command: $c, propertyId: $id, status: ACTIVE) { version } }",
        json!({"c": key(), "id": property}),
    )
    .await;
    let before_price_cut = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    ok(
        gql,
        b,
        "mutation($c: CommandInput!, $id: UUID!) { changeAskingPrice(command: $c, propertyId: $id, askingPrice: {amountMinor: 42000000, currency: \"EUR\"}) { version } }",
        json!({"c": key(), "id": property}),
    )
    .await;
    let contact = ok(
        gql,
        b,
        "mutation($c: CommandInput!) { createContact(command: $c, details: {name: \"Clara Voss\", email: \"clara@example.com\"}) { recordId } }",
        json!({"c": key()}),
    )
    .await["createContact"]["recordId"]
        .clone();
    ok(
        gql,
        b,
        "mutation($c: CommandInput!, $id: UUID!) { grantConsent(command: $c, contactId: $id, channel: EMAIL, lawfulBasis: CONSENT, source: \"web form\") { version } }",
        json!({"c": key(), "id": contact}),
    )
    .await;
    let deal = ok(
        gql,
        b,
        "mutation($c: CommandInput!, $p: UUID!, $b: UUID!) { openDeal(command: $c, input: {propertyId: $p, buyerContactId: $b, offer: {amountMinor: 41000000, currency: \"EUR\"}}) { recordId } }",
        json!({"c": key(), "p": property, "b": contact}),
    )
    .await["openDeal"]["recordId"]
        .clone();
    ok(
        gql,
        b,
        "mutation($c: CommandInput!, $d: UUID!) { moveStage(command: $c, dealId: $d, stage: QUALIFIED) { version } }",
        json!({"c": key(), "d": deal}),
    )
    .await;
    let sent = ok(
        gql,
        b,
        "mutation($c: CommandInput!, $id: UUID!, $d: UUID!) { sendMessage(command: $c, input: {contactId: $id, channel: EMAIL, subject: \"Viewing\", body: \"Friday at 10\", dealId: $d}) { messageId result { position } } }",
        json!({"c": key(), "id": contact, "d": deal}),
    )
    .await;
    let last = sent["sendMessage"]["result"]["position"].clone();

    // Everything is visible once the read models have reached the last position.
    let seen = ok(
        gql,
        b,
        "query($p: Int64!, $prop: UUID!, $deal: UUID!, $contact: UUID!) { atLeast(position: $p) {
            properties(filter: {status: ACTIVE}) { edges { node { city askingPriceMinor agent { displayName } } } }
            property(id: $prop) { timeline { edges { node { text } } } priceHistory { toMinor } }
            pipeline { stage count totalMinor }
            deal(id: $deal) { stage property { city } agent { displayName } stageHistory { toStage } }
            contact(id: $contact) { name compliance { channel sendable } messages { edges { node { status subject } } } conversations { messagesOut } }
            tenant { slug name }
            me { displayName role }
        } }",
        json!({"p": last, "prop": property, "deal": deal, "contact": contact}),
    )
    .await["atLeast"]
        .clone();
    assert_eq!(
        seen["properties"]["edges"],
        json!([{"node": {"city": "Berlin", "askingPriceMinor": "42000000", "agent": {"displayName": "Ben Kurz"}}}])
    );
    let texts: Vec<&str> = seen["property"]["timeline"]["edges"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["node"]["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts.iter().all(|t| t.ends_with("by Ben Kurz")),
        "{texts:?}"
    );
    assert_eq!(
        seen["pipeline"],
        json!([{"stage": "qualified", "count": 1, "totalMinor": "41000000"}])
    );
    assert_eq!(seen["deal"]["property"]["city"], "Berlin");
    assert_eq!(
        seen["deal"]["stageHistory"],
        json!([{"toStage": "lead"}, {"toStage": "qualified"}])
    );
    let email = seen["contact"]["compliance"]
        .as_array()
        .expect("compliance")
        .iter()
        .find(|c| c["channel"] == "email")
        .expect("email channel")
        .clone();
    assert_eq!(email["sendable"], true);
    assert_eq!(
        seen["contact"]["messages"]["edges"][0]["node"]["subject"],
        "Viewing"
    );
    assert_eq!(
        seen["tenant"],
        json!({"slug": "berg", "name": "Berg Immobilien"})
    );
    assert_eq!(
        seen["me"],
        json!({"displayName": "Ben Kurz", "role": "agent"})
    );

    // The admin reads analytics and the audit history, and the property as it was.
    let audit = ok(
        gql,
        a,
        "query($prop: UUID!, $agent: UUID!, $at: DateTime!) {
            funnel { stage dealsReached }
            leaderboard { openDeals }
            auditEvents(filter: {user: $agent, eventType: \"AskingPriceChanged\"}) { edges { node { streamId actor } } }
            asOf(kind: PROPERTY, id: $prop, at: $at) { version state }
            users { email role status }
        }",
        json!({"prop": property, "agent": agent["userId"], "at": before_price_cut}),
    )
    .await;
    let funnel = audit["funnel"].as_array().expect("funnel");
    assert!(
        funnel
            .iter()
            .any(|s| s["stage"] == "qualified" && s["dealsReached"] == 1),
        "{funnel:?}"
    );
    assert_eq!(audit["leaderboard"], json!([{"openDeals": 1}]));
    assert_eq!(
        audit["auditEvents"]["edges"],
        json!([{"node": {"streamId": property, "actor": format!("user:{}", agent["userId"].as_str().expect("id"))}}])
    );
    assert_eq!(
        audit["asOf"]["version"], "2",
        "created and activated, not yet cut"
    );
    assert_eq!(
        audit["asOf"]["state"]["asking_price"]["amount_minor"],
        45_000_000
    );
    let users = audit["users"].as_array().expect("users");
    assert_eq!(users.len(), 2);
    assert!(users
        .iter()
        .any(|u| u["email"] == "ben@berg.example" && u["status"] == "active"));
}
