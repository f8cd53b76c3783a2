//! Credentials that cannot be abused through the gateway: an invitation
//! works once, a refused acceptance sets no password, a replayed refresh
//! token ends its sign-in, a refused sign-up stores nothing, a locked
//! account answers like a wrong password, and failed logins are throttled
//! per client address.

use crate::World;
use deedlog_cluster::Component;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::{command, PASSWORD};
use deedlog_tests::{Gql, LogCounts};
use serde_json::{json, Value};
use uuid::Uuid;

const ACCEPT: &str = "mutation($c: CommandInput!, $t: String!, $p: String!) { acceptInvitation(command: $c, invitationToken: $t, password: $p) { version position duplicate } }";
const REFRESH: &str = "mutation($r: String!) { refresh(refreshToken: $r) { refreshToken } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(tenantSlug: \"berg\", email: $e, password: $p) { accessToken refreshToken } }";

fn key(id: Uuid) -> Value {
    json!({ "idempotencyKey": id })
}

/// Invites `name` as an agent (deactivated at once when `deactivated`).
async fn invitation(w: &mut World, name: &str, deactivated: bool) -> String {
    let admin = w.clients.register("berg").await;
    let invited = w.clients.invite(&admin, pb::Role::Agent, name).await;
    if deactivated {
        w.clients
            .tenancy
            .deactivate_user(admin.request(pb::DeactivateUserRequest {
                command: command(),
                user_id: invited.user_id,
            }))
            .await
            .expect("deactivate");
    }
    invited.invitation_token
}

/// Asserts that an attacker accepting `token` is refused with `text` and
/// that nothing is stored.
async fn assert_attacker_refused(w: &World, token: &str, text: &str) {
    let before = LogCounts::of(&w.cluster).await;
    w.gql
        .run(
            None,
            ACCEPT,
            json!({"c": key(Uuid::now_v7()), "t": token, "p": "attacker-chosen password"}),
        )
        .await
        .assert_error("RULE_REFUSED", text);
    assert_eq!(LogCounts::of(&w.cluster).await, before);
}

#[tokio::test]
async fn an_invitation_accepted_through_the_gateway_cannot_be_replayed() {
    let mut w = World::start().await;
    let token = invitation(&mut w, "ben", false).await;
    let first = Uuid::now_v7();
    let accepted = w
        .gql
        .run(
            None,
            ACCEPT,
            json!({"c": key(first), "t": token, "p": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.data()["acceptInvitation"]["duplicate"], false);
    assert_attacker_refused(&w, &token, "invitation was already accepted").await;
    let attacker = w
        .gql
        .run(
            None,
            LOGIN,
            json!({"e": "ben@berg.example", "p": "attacker-chosen password"}),
        )
        .await;
    attacker.assert_error("UNAUTHENTICATED", "");
}

#[tokio::test]
async fn a_refused_acceptance_through_the_gateway_sets_no_password() {
    let mut w = World::start().await;
    let token = invitation(&mut w, "gone", true).await;
    assert_attacker_refused(&w, &token, "Deactivated").await;
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_its_sign_in_through_the_gateway() {
    let (w, admin) = World::with_tenant("berg").await;
    let second = w
        .gql
        .run(None, REFRESH, json!({"r": admin.refresh}))
        .await
        .data()["refresh"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    w.gql
        .run(None, REFRESH, json!({"r": admin.refresh}))
        .await
        .assert_error("UNAUTHENTICATED", "already used");
    w.gql
        .run(None, REFRESH, json!({"r": second}))
        .await
        .assert_error("UNAUTHENTICATED", "not valid");
}

#[tokio::test]
async fn a_refused_sign_up_through_the_gateway_leaves_the_slug_free() {
    let w = World::start().await;
    let sign_up = "mutation($c: CommandInput!, $n: String!, $e: String!) { registerTenant(command: $c, input: {name: $n, slug: \"berg\", adminEmail: $e, adminDisplayName: \"Anna\", adminPassword: \"a long and careful passphrase\"}) { tenantId result { position } } }";
    let before = LogCounts::of(&w.cluster).await;
    for (name, email) in [("", "anna@berg.example"), ("Berg", "not an email")] {
        w.gql
            .run(
                None,
                sign_up,
                json!({"c": key(Uuid::now_v7()), "n": name, "e": email}),
            )
            .await
            .assert_error("BAD_USER_INPUT", "");
        assert_eq!(LogCounts::of(&w.cluster).await, before, "{name} {email}");
    }
    let done = w
        .gql
        .run(
            None,
            sign_up,
            json!({"c": key(Uuid::now_v7()), "n": "Berg", "e": "anna@berg.example"}),
        )
        .await;
    assert!(done.data()["registerTenant"]["tenantId"].is_string());
}

const WRONG_LOGIN: &str = "wrong tenant, email or password";

#[tokio::test]
async fn a_locked_account_answers_through_the_gateway_like_a_wrong_password() {
    let (w, admin) = World::with_tenant("berg").await;
    let wrong = json!({"e": admin.email, "p": "wrong password!"});
    for _ in 0..5 {
        let answer = w.gql.run(None, LOGIN, wrong.clone()).await;
        answer.assert_error("UNAUTHENTICATED", WRONG_LOGIN);
        assert_eq!(answer.message(), WRONG_LOGIN);
    }
    let locked = w
        .gql
        .run(None, LOGIN, json!({"e": admin.email, "p": PASSWORD}))
        .await;
    locked.assert_error("UNAUTHENTICATED", WRONG_LOGIN);
    assert_eq!(locked.message(), WRONG_LOGIN);
}

#[tokio::test]
async fn failed_logins_through_the_gateway_are_throttled_per_client_address() {
    let (w, admin) = World::with_tenant("berg").await;
    let base = w.cluster.url(Component::Gateway);
    let browser = Gql::from_address(&base, [127, 0, 0, 2].into());
    let neighbour = Gql::from_address(&base, [127, 0, 0, 3].into());
    let right = json!({"e": admin.email, "p": PASSWORD});
    for i in 0..9 {
        let nobody = json!({"e": format!("nobody{i}@berg.example"), "p": "wrong password!"});
        browser
            .run(None, LOGIN, nobody)
            .await
            .assert_error("UNAUTHENTICATED", WRONG_LOGIN);
    }
    // Successful logins are neither counted nor refused.
    for _ in 0..3 {
        browser.run(None, LOGIN, right.clone()).await.data();
    }
    browser
        .run(
            None,
            LOGIN,
            json!({"e": "nobody@berg.example", "p": "wrong password!"}),
        )
        .await
        .assert_error("UNAUTHENTICATED", WRONG_LOGIN);
    browser.run(None, LOGIN, right.clone()).await.assert_error(
        "RATE_LIMITED",
        "too many failed logins from this address; try again in",
    );
    // Another client of the same gateway is not held back by them.
    neighbour.run(None, LOGIN, right).await.data();
}
