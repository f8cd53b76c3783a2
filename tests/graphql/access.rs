//! Who may do what: tokens checked at the gateway (missing, malformed,
//! expired, forged, `alg: none`, HS256 with the public key), roles per
//! DOMAIN.md, and another tenant's ids answered NOT_FOUND with no leak.

use crate::{create_property, World};
use chrono::Duration;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::tokens::{admin_caller, forger_key, refused_tokens, token, with_algorithm};
use deedlog_tests::Session;
use serde_json::json;
use uuid::Uuid;

const LIST: &str = "{ properties(first: 5) { edges { node { propertyId } } } }";

#[tokio::test]
async fn bad_tokens_are_refused_with_unauthenticated_and_the_login_works() {
    let (w, admin) = World::with_tenant("berg").await;
    let me = admin_caller(&admin);
    let public_pem = w.cluster.signing.public_pem().expect("pem");
    let mut cases = refused_tokens(&w.cluster.signing, &me);
    cases.extend([
        (Some(with_algorithm(&me, "none", b"")), ""),
        (
            Some(with_algorithm(&me, "HS256", public_pem.as_bytes())),
            "EdDSA",
        ),
    ]);
    for (bad, text) in cases {
        let answer = w.gql.run(bad.as_deref(), LIST, json!({})).await;
        answer.assert_error("UNAUTHENTICATED", text);
        assert!(answer.body["data"].is_null(), "{}", answer.body);
    }
    // A bad token cannot write either, and nothing was written.
    let forged = token(&forger_key(), "deedlog", &me, Duration::minutes(5));
    let answer = w
        .gql
        .run(
            Some(&forged),
            crate::CREATE_PROPERTY,
            json!({"key": Uuid::now_v7(), "city": "Berlin", "price": 1}),
        )
        .await;
    answer.assert_error("UNAUTHENTICATED", "signature");

    // Login through the gateway; wrong passwords get one answer.
    let login = "mutation($p: String!) { login(tenantSlug: \"berg\", email: \"admin@berg.example\", password: $p) { accessToken refreshToken role } }";
    let wrong = w.gql.run(None, login, json!({"p": "nope-nope-nope"})).await;
    wrong.assert_error("UNAUTHENTICATED", "");
    let ok = w
        .gql
        .run(None, login, json!({"p": deedlog_tests::clients::PASSWORD}))
        .await;
    let session = ok.data()["login"].clone();
    assert_eq!(session["role"], "admin");
    let access = session["accessToken"].as_str().expect("token");
    let page = w.gql.run(Some(access), LIST, json!({})).await;
    assert_eq!(
        page.data()["properties"]["edges"],
        json!([]),
        "nothing was written"
    );

    // Refresh gives a new session; logout revokes the refresh token.
    let refresh = session["refreshToken"].as_str().expect("refresh");
    let renewed = w
        .gql
        .run(
            None,
            "mutation($r: String!) { refresh(refreshToken: $r) { refreshToken } }",
            json!({"r": refresh}),
        )
        .await;
    let next = renewed.data()["refresh"]["refreshToken"]
        .as_str()
        .expect("next")
        .to_owned();
    let out = w
        .gql
        .run(
            None,
            "mutation($r: String!) { logout(refreshToken: $r) }",
            json!({"r": next}),
        )
        .await;
    assert_eq!(out.data()["logout"], true);
    let again = w
        .gql
        .run(
            None,
            "mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }",
            json!({"r": next}),
        )
        .await;
    again.assert_error("UNAUTHENTICATED", "");
}

#[tokio::test]
async fn roles_bound_what_each_user_reads_and_writes() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let agent = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    let viewer = w.colleague(&admin, tenancy::Role::Viewer, "vic").await;
    let auditor = w.colleague(&admin, tenancy::Role::Auditor, "aud").await;
    let manager = w.colleague(&admin, tenancy::Role::Manager, "max").await;
    create_property(&w.gql, &agent.access, "Berlin", 100).await;

    let analytics = "{ funnel { stage } }";
    let users = "{ users { email role } }";
    // (who, query, allowed)
    let matrix = [
        (&admin, LIST, true),
        (&manager, LIST, true),
        (&agent, LIST, true),
        (&viewer, LIST, true),
        (&auditor, LIST, false),
        (&admin, analytics, true),
        (&manager, analytics, true),
        (&auditor, analytics, true),
        (&agent, analytics, false),
        (&viewer, analytics, false),
        (&admin, users, true),
        (&auditor, users, true),
        (&agent, users, false),
        (&viewer, users, false),
    ];
    for (who, query, allowed) in matrix {
        let answer = w.gql.run_as(who, query, json!({})).await;
        if allowed {
            answer.data();
        } else {
            answer.assert_error("FORBIDDEN", "your role may not");
        }
    }
    // Viewers and auditors change nothing: the service refuses, the gateway says FORBIDDEN.
    for who in [&viewer, &auditor] {
        w.gql
            .refused_as(who, crate::CREATE_PROPERTY, new_property(), "FORBIDDEN", "")
            .await;
    }
    assert_eq!(
        listed(&w, &admin).await,
        Some(1),
        "only the agent's property exists"
    );
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_and_nothing_leaks() {
    let (mut w, berg) = World::with_tenant("berg").await;
    let voss = w.clients.register("voss").await;
    let created = create_property(&w.gql, &berg.access, "Berlin", 100).await;
    let id = created["recordId"].as_str().expect("id").to_owned();

    let read = w
        .gql
        .refused_as(
            &voss,
            "query($id: UUID!) { property(id: $id) { city } }",
            json!({"id": id}),
            "NOT_FOUND",
            "property not found",
        )
        .await;
    assert!(!read.body.to_string().contains("Berlin"));
    for (query, what) in [
        ("query($id: UUID!) { deal(id: $id) { stage } }", "deal"),
        ("query($id: UUID!) { contact(id: $id) { name } }", "contact"),
    ] {
        w.gql
            .refused_as(&voss, query, json!({"id": id}), "NOT_FOUND", what)
            .await;
    }
    let list = w.gql.run_as(&voss, LIST, json!({})).await;
    assert_eq!(list.data()["properties"]["edges"], json!([]));

    w.gql
        .refused_as(
            &voss,
            "mutation($k: UUID!, $id: UUID!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $id, askingPrice: {amountMinor: 1, currency: \"EUR\"}) { version } }",
            json!({"k": Uuid::now_v7(), "id": id}),
            "NOT_FOUND",
            "",
        )
        .await;
    // A contact and a deal of berg's: every command on them from voss is NOT_FOUND.
    let contact = w.contact_id(&berg, "Clara Voss").await;
    let deal = w
        .gql
        .run_as(
            &berg,
            "mutation($k: UUID!, $p: UUID!, $b: UUID!) { openDeal(command: {idempotencyKey: $k}, input: {propertyId: $p, buyerContactId: $b}) { recordId } }",
            json!({"k": Uuid::now_v7(), "p": id, "b": contact}),
        )
        .await
        .data()["openDeal"]["recordId"]
        .clone();
    for (mutation, record) in [
        ("moveStage(command: {idempotencyKey: $k}, dealId: $id, stage: QUALIFIED) { version }", &deal),
        ("loseDeal(command: {idempotencyKey: $k}, dealId: $id, reason: \"gone\") { version }", &deal),
        ("grantConsent(command: {idempotencyKey: $k}, contactId: $id, channel: EMAIL, lawfulBasis: CONSENT, source: \"x\") { version }", &contact),
        ("updateContact(command: {idempotencyKey: $k}, contactId: $id, details: {name: \"X\"}) { version }", &contact),
        ("addTag(command: {idempotencyKey: $k}, propertyId: $id, tag: \"x\") { version }", &json!(id)),
        ("archiveProperty(command: {idempotencyKey: $k}, propertyId: $id) { version }", &json!(id)),
    ] {
        let query = format!("mutation($k: UUID!, $id: UUID!) {{ {mutation} }}");
        let variables = json!({"k": Uuid::now_v7(), "id": record});
        let answer = w
            .gql
            .refused_as(&voss, &query, variables, "NOT_FOUND", "")
            .await;
        assert!(!answer.body.to_string().contains("Clara"), "{}", answer.body);
    }
    // Berg's property is as it was.
    let mine = w
        .gql
        .run_as(
            &berg,
            "query($id: UUID!) { property(id: $id) { askingPriceMinor version } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        mine.data()["property"],
        json!({"askingPriceMinor": "100", "version": "1"})
    );
}

/// The cache time of tenants' rosters in these tests: the production default.
const CACHE_MS: u64 = 1000;

/// Runs `query` as the holder of `token` until it is refused (at most
/// 5 s) and asserts the refusal has `code` and `text` and came `soon()`.
async fn refused_soon(
    w: &World,
    token: &str,
    query: &str,
    variables: impl Fn() -> serde_json::Value,
    code: &str,
    text: &str,
) {
    let started = std::time::Instant::now();
    let answer = loop {
        let answer = w.gql.run(Some(token), query, variables()).await;
        if answer.body.get("errors").is_some() {
            break answer;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "still accepted 5 s after the change: {}",
            answer.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let after = started.elapsed();
    answer.assert_error(code, text);
    assert!(after < soon(), "refused only after {after:?}");
}

/// A world whose services cache the tenant directory for `CACHE_MS`, with
/// the berg tenant registered; returns its admin.
async fn caching_world() -> (World, Session) {
    World::with_tenant_and("berg", |f| {
        f.merge(("services.tenant_cache_ttl_ms", CACHE_MS))
    })
    .await
}

/// Within the cache time plus a margin for a slow machine.
fn soon() -> std::time::Duration {
    std::time::Duration::from_millis(CACHE_MS + 1500)
}

/// How many properties `user` sees in the list.
async fn listed(w: &World, user: &Session) -> Option<usize> {
    let page = w.gql.run_as(user, LIST, json!({})).await;
    page.data()["properties"]["edges"].as_array().map(Vec::len)
}

fn new_property() -> serde_json::Value {
    json!({"key": Uuid::now_v7(), "city": "Hamburg", "price": 1})
}

#[tokio::test]
async fn a_deactivated_users_unexpired_token_neither_reads_nor_writes() {
    let (mut w, admin) = caching_world().await;
    let agent = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    create_property(&w.gql, &agent.access, "Berlin", 100).await;
    w.gql.run_as(&agent, LIST, json!({})).await.data();
    w.clients
        .tenancy
        .deactivate_user(admin.request(tenancy::DeactivateUserRequest {
            command: deedlog_tests::clients::command(),
            user_id: agent.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    refused_soon(
        &w,
        &agent.access,
        LIST,
        || json!({}),
        "UNAUTHENTICATED",
        "deactivated",
    )
    .await;
    w.gql
        .run_as(&agent, crate::CREATE_PROPERTY, new_property())
        .await
        .assert_error("UNAUTHENTICATED", "deactivated");
    assert_eq!(
        listed(&w, &admin).await,
        Some(1),
        "the deactivated agent wrote nothing more"
    );
}

#[tokio::test]
async fn a_manager_demoted_to_viewer_reads_but_no_longer_writes_with_the_old_token() {
    let (mut w, admin) = caching_world().await;
    let manager = w.colleague(&admin, tenancy::Role::Manager, "mia").await;
    create_property(&w.gql, &manager.access, "Berlin", 100).await;
    w.clients
        .tenancy
        .change_role(admin.request(tenancy::ChangeRoleRequest {
            command: deedlog_tests::clients::command(),
            user_id: manager.user_id.clone(),
            role: tenancy::Role::Viewer.into(),
        }))
        .await
        .expect("demote");
    refused_soon(
        &w,
        &manager.access,
        crate::CREATE_PROPERTY,
        new_property,
        "FORBIDDEN",
        "",
    )
    .await;
    // A viewer reads records, and no longer the users a manager sees.
    w.gql.run_as(&manager, LIST, json!({})).await.data();
    w.gql
        .run_as(&manager, "{ users { email role } }", json!({}))
        .await
        .assert_error("FORBIDDEN", "your role may not");
}

#[tokio::test]
async fn a_suspended_tenants_agent_no_longer_reads_and_its_admin_does() {
    let (mut w, admin) = caching_world().await;
    let agent = w.colleague(&admin, tenancy::Role::Agent, "ada").await;
    create_property(&w.gql, &agent.access, "Berlin", 100).await;
    w.clients.suspend(&admin).await;
    refused_soon(
        &w,
        &agent.access,
        LIST,
        || json!({}),
        "RULE_REFUSED",
        "suspended",
    )
    .await;
    assert_eq!(
        listed(&w, &admin).await,
        Some(1),
        "the admin still reads the suspended tenant"
    );
}
