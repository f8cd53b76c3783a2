//! `contactExport`: the right-of-access document, for admins and auditors
//! only, within the caller's tenant.

use crate::World;
use deedlog_proto::tenancy::v1::Role;
use deedlog_tests::contact_export::{
    assert_every_key_documented, assert_holds_history, subject_with_history, without_time, BODY,
    CONTACT_EXPORT, EMAIL, NAME, REPLY,
};
use deedlog_tests::fixtures::forget_contact;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn admins_and_auditors_export_everything_held_about_a_contact_and_nobody_else_does() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let subject = subject_with_history(&w.cluster, &mut w.clients, &admin).await;
    let variables = json!({"c": subject.contact_id});

    let as_admin = w
        .gql
        .run_as(&admin, CONTACT_EXPORT, variables.clone())
        .await
        .data()["contactExport"]
        .clone();
    assert_holds_history(&as_admin, &subject, &admin);
    assert_every_key_documented(&as_admin);

    let auditor = w.colleague(&admin, Role::Auditor, "aud").await;
    let as_auditor = w
        .gql
        .run_as(&auditor, CONTACT_EXPORT, variables.clone())
        .await
        .data()["contactExport"]
        .clone();
    assert_eq!(without_time(&as_auditor), without_time(&as_admin));

    // Every other role: the gateway's permission refusal, and no data.
    for (role, name) in [
        (Role::Agent, "ada"),
        (Role::Viewer, "vic"),
        (Role::Manager, "max"),
    ] {
        let user = w.colleague(&admin, role, name).await;
        let answer = w
            .gql
            .refused_as(
                &user,
                CONTACT_EXPORT,
                variables.clone(),
                "FORBIDDEN",
                "your role may not export a contact's personal data",
            )
            .await;
        assert!(answer.body["data"].is_null(), "{role:?}: {}", answer.body);
        assert!(!answer.body.to_string().contains(NAME), "{}", answer.body);
    }

    // An id the tenant does not have, and another tenant's contact (both
    // ways): NOT_FOUND, with nothing of the contact in the answer.
    w.gql
        .refused_as(
            &admin,
            CONTACT_EXPORT,
            json!({"c": Uuid::now_v7()}),
            "NOT_FOUND",
            "contact not found",
        )
        .await;
    let other = w.clients.register("voss").await;
    let theirs = w.clients.contact(&other, "Otto Other").await;
    w.gql
        .refused_as(
            &admin,
            CONTACT_EXPORT,
            json!({"c": theirs}),
            "NOT_FOUND",
            "contact not found",
        )
        .await;
    let answer = w
        .gql
        .refused_as(
            &other,
            CONTACT_EXPORT,
            variables,
            "NOT_FOUND",
            "contact not found",
        )
        .await;
    assert!(!answer.body.to_string().contains(NAME), "{}", answer.body);
}

#[tokio::test]
async fn a_forgotten_contacts_export_reads_erased_where_their_data_was() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let subject = subject_with_history(&w.cluster, &mut w.clients, &admin).await;
    let forgotten = w
        .clients
        .communications
        .forget_contact(admin.request(forget_contact(&subject.contact_id)))
        .await
        .expect("forget")
        .into_inner();
    w.cluster.wait_for_read_models(forgotten.position).await;

    let doc = w
        .gql
        .run_as(&admin, CONTACT_EXPORT, json!({"c": subject.contact_id}))
        .await
        .data()["contactExport"]
        .clone();
    let text = doc.to_string();
    for personal in [NAME, EMAIL, BODY, REPLY] {
        assert!(!text.contains(personal), "{personal:?} in {doc}");
    }
    assert!(!text.contains("$sealed"), "{doc}");
    assert_eq!(doc["contact"]["name"], "[erased]", "{doc}");
    let events = doc["events"].as_array().expect("events");
    assert_eq!(events[0]["payload"]["name"], "[erased]", "{}", events[0]);
    assert_eq!(events[3]["payload"]["body"], "[erased]", "{}", events[3]);
    assert_eq!(
        events.last().map(|e| e["event_type"].clone()),
        Some(json!("ContactForgotten")),
        "{doc}"
    );
    // The rest of the record stays: what happened, when and by whom.
    assert_eq!(doc["messages"].as_array().map(Vec::len), Some(2), "{doc}");
    assert_eq!(doc["deals"].as_array().map(Vec::len), Some(1), "{doc}");
}
