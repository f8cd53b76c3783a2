//! Forgetting a person through the gateway (right to erasure, ADR 0035):
//! `forgetContact` for admins and managers, `forgetUser` for admins, with
//! the same refusals as over gRPC.

use crate::World;
use deedlog_proto::tenancy::v1::{DeactivateUserRequest, Role};
use deedlog_tests::clients::{command, PASSWORD};
use deedlog_tests::{Answer, LogCounts};
use serde_json::{json, Value};
use uuid::Uuid;

const FORGET_CONTACT: &str = "mutation($k: UUID!, $id: UUID!) { forgetContact(command: {idempotencyKey: $k}, contactId: $id) { recordId version duplicate } }";

const FORGET_USER: &str = "mutation($k: UUID!, $id: UUID!) { forgetUser(command: {idempotencyKey: $k}, userId: $id) { recordId version } }";

const SEND_EMAIL: &str = r#"mutation($k: UUID!, $id: UUID!) { sendMessage(command: {idempotencyKey: $k}, input: {contactId: $id, channel: EMAIL, subject: "Viewing", body: "Friday?"}) { messageId } }"#;

fn vars(id: &Value) -> Value {
    json!({"k": Uuid::now_v7(), "id": id})
}

fn reason(answer: &Answer) -> &Value {
    &answer.body["errors"][0]["extensions"]["reason"]
}

#[tokio::test]
async fn admins_and_managers_forget_contacts_others_are_forbidden() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let manager = w.colleague(&admin, Role::Manager, "mara").await;
    let agent = w.colleague(&admin, Role::Agent, "ben").await;
    let viewer = w.colleague(&admin, Role::Viewer, "vic").await;
    let other = w.clients.register("other").await;
    let clara = w.contact_id(&admin, "Clara Voss").await;

    for who in [&agent, &viewer] {
        let before = LogCounts::of(&w.cluster).await;
        w.gql
            .refused_as(
                who,
                FORGET_CONTACT,
                vars(&clara),
                "FORBIDDEN",
                "may not forget contacts",
            )
            .await;
        assert_eq!(LogCounts::of(&w.cluster).await, before, "nothing appended");
    }
    let before = LogCounts::of(&w.cluster).await;
    w.gql
        .refused_as(&other, FORGET_CONTACT, vars(&clara), "NOT_FOUND", "")
        .await;
    assert_eq!(LogCounts::of(&w.cluster).await, before, "nothing appended");

    let forgotten = w.gql.run_as(&admin, FORGET_CONTACT, vars(&clara)).await;
    assert_eq!(forgotten.data()["forgetContact"]["recordId"], clara);
    assert_eq!(
        before.appended_since(&w.cluster).await,
        ["ContactForgotten"]
    );

    let refused = w
        .gql
        .refused_as(
            &admin,
            SEND_EMAIL,
            vars(&clara),
            "RULE_REFUSED",
            "was forgotten",
        )
        .await;
    assert_eq!(reason(&refused), "CONTACT_FORGOTTEN", "{}", refused.body);
    let again = w
        .gql
        .refused_as(
            &manager,
            FORGET_CONTACT,
            vars(&clara),
            "RULE_REFUSED",
            "was forgotten",
        )
        .await;
    assert_eq!(reason(&again), "CONTACT_FORGOTTEN", "{}", again.body);

    let mia = w.contact_id(&manager, "Mia Berg").await;
    let by_manager = w.gql.run_as(&manager, FORGET_CONTACT, vars(&mia)).await;
    assert_eq!(by_manager.data()["forgetContact"]["recordId"], mia);
}

#[tokio::test]
async fn an_admin_forgets_a_deactivated_user_who_then_cannot_sign_in() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let manager = w.colleague(&admin, Role::Manager, "mara").await;
    let ben = w.colleague(&admin, Role::Agent, "ben").await;
    let id = json!(ben.user_id);

    let active = w
        .gql
        .refused_as(
            &admin,
            FORGET_USER,
            vars(&id),
            "RULE_REFUSED",
            "not deactivated",
        )
        .await;
    assert_eq!(reason(&active), "USER_NOT_DEACTIVATED", "{}", active.body);

    w.clients
        .tenancy
        .deactivate_user(admin.request(DeactivateUserRequest {
            command: command(),
            user_id: ben.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    let before = LogCounts::of(&w.cluster).await;
    w.gql
        .refused_as(
            &manager,
            FORGET_USER,
            vars(&id),
            "FORBIDDEN",
            "may not forget users",
        )
        .await;
    assert_eq!(LogCounts::of(&w.cluster).await, before, "nothing appended");

    let done = w.gql.run_as(&admin, FORGET_USER, vars(&id)).await;
    assert_eq!(
        done.data()["forgetUser"]["recordId"],
        json!(admin.tenant_id)
    );
    assert_eq!(before.appended_since(&w.cluster).await, ["UserForgotten"]);
    let twice = w
        .gql
        .refused_as(
            &admin,
            FORGET_USER,
            vars(&id),
            "RULE_REFUSED",
            "was forgotten",
        )
        .await;
    assert_eq!(reason(&twice), "USER_FORGOTTEN", "{}", twice.body);

    let login = w.clients.login("berg", &ben.email, PASSWORD).await;
    assert_eq!(
        login.expect_err("a forgotten user cannot sign in").code(),
        tonic::Code::Unauthenticated
    );
}
