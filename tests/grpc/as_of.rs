//! `GetAsOf` over gRPC: a record's state as of an instant, rebuilt from the
//! log, for admins and auditors only, and never another tenant's record.

use crate::{assert_status, violated_field};
use deedlog_proto::common::v1::{AsOfRequest, RecordState};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::fixtures::{
    clara_voss, consent, eur, listed_apartment, move_stage, new_contact, reprice,
};
use deedlog_tests::{start_with_tenant, Clients, Session};
use serde_json::Value;
use tonic::Code;
use uuid::Uuid;

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn as_of(s: &Session, record: &str, at: Option<i64>) -> tonic::Request<AsOfRequest> {
    s.request(AsOfRequest {
        record_id: record.to_owned(),
        at_unix_micros: at,
    })
}

fn state(reply: &RecordState) -> Value {
    serde_json::from_str(&reply.state_json).expect("state_json is JSON")
}

async fn change_price(c: &mut Clients, s: &Session, id: &str, minor: i64) -> u64 {
    c.properties
        .change_asking_price(s.request(reprice(id, eur(minor))))
        .await
        .expect("change price")
        .into_inner()
        .version
}

#[tokio::test]
async fn a_property_reads_as_it_was_at_any_instant_for_admins_and_auditors_only() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let auditor = c.colleague(&admin, tenancy::Role::Auditor, "audrey").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;

    let before_creation = now_micros();
    let created = c.create_property(&agent, listed_apartment()).await;
    let id = created.record_id.clone();
    assert_eq!(change_price(&mut c, &agent, &id, 46_000_000).await, 2);
    let between = now_micros();
    assert_eq!(change_price(&mut c, &agent, &id, 47_000_000).await, 3);

    // Between the two changes: the first new price, at version 2.
    let then = c
        .properties
        .get_as_of(as_of(&auditor, &id, Some(between)))
        .await
        .expect("as of between")
        .into_inner();
    assert_eq!(then.record_id, id);
    assert_eq!(then.record_type, "property");
    assert_eq!(then.version, 2);
    assert_eq!(then.at_unix_micros, between);
    assert!(then.position > created.position);
    assert!(then.recorded_at_unix_micros <= between);
    let s = state(&then);
    assert_eq!(s["asking_price"]["amount_minor"], 46_000_000, "{s}");
    assert_eq!(s["price_history"].as_array().map(Vec::len), Some(2), "{s}");
    assert_eq!(s["status"], "draft", "{s}");

    // Now (no instant given): the latest price.
    let latest = c
        .properties
        .get_as_of(as_of(&admin, &id, None))
        .await
        .expect("as of now")
        .into_inner();
    assert_eq!(latest.version, 3);
    assert!(latest.position > then.position);
    assert_eq!(state(&latest)["asking_price"]["amount_minor"], 47_000_000);

    // Before it was created: not found.
    assert_status(
        c.properties
            .get_as_of(as_of(&admin, &id, Some(before_creation)))
            .await,
        Code::NotFound,
        "no property",
    );
    // A record nobody has: the same answer.
    assert_status(
        c.properties
            .get_as_of(as_of(&admin, &Uuid::now_v7().to_string(), None))
            .await,
        Code::NotFound,
        "no property",
    );
    // Another tenant's admin: the same answer, nothing leaks.
    let other = c.register("voss").await;
    assert_status(
        c.properties.get_as_of(as_of(&other, &id, None)).await,
        Code::NotFound,
        "no property",
    );
    // Roles that may not read the audit history.
    assert_status(
        c.properties.get_as_of(as_of(&agent, &id, None)).await,
        Code::PermissionDenied,
        "only admins and auditors",
    );
    // Bad arguments name their field.
    let bad = assert_status(
        c.properties
            .get_as_of(as_of(&admin, "not-a-uuid", None))
            .await,
        Code::InvalidArgument,
        "not a UUID",
    );
    assert_eq!(violated_field(&bad), "record_id");
    let bad = assert_status(
        c.properties
            .get_as_of(as_of(&admin, &id, Some(i64::MAX)))
            .await,
        Code::InvalidArgument,
        "not an instant",
    );
    assert_eq!(violated_field(&bad), "at_unix_micros");
    // No token: unauthenticated.
    let status = c
        .properties
        .get_as_of(tonic::Request::new(AsOfRequest {
            record_id: id.clone(),
            at_unix_micros: None,
        }))
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);

    // A suspended tenant takes no commands but its history is still read.
    c.suspend(&admin).await;
    let suspended = c
        .properties
        .get_as_of(as_of(&auditor, &id, None))
        .await
        .expect("read while suspended")
        .into_inner();
    assert_eq!(suspended.version, 3);
}

#[tokio::test]
async fn a_deal_and_a_contact_read_as_they_were() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let viewer = c.colleague(&admin, tenancy::Role::Viewer, "vic").await;

    let deal = c.deal(&admin).await;
    let opened = now_micros();
    c.deals
        .move_stage(admin.request(move_stage(&deal, deals::Stage::Qualified)))
        .await
        .expect("move stage");
    let then = c
        .deals
        .get_as_of(as_of(&admin, &deal, Some(opened)))
        .await
        .expect("deal as of")
        .into_inner();
    assert_eq!((then.record_type.as_str(), then.version), ("deal", 1));
    assert_eq!(state(&then)["stage"], "lead");
    let now = c
        .deals
        .get_as_of(as_of(&admin, &deal, None))
        .await
        .expect("deal now")
        .into_inner();
    assert_eq!(now.version, 2);
    assert_eq!(state(&now)["stage"], "qualified");
    assert_status(
        c.deals.get_as_of(as_of(&viewer, &deal, None)).await,
        Code::PermissionDenied,
        "only admins and auditors",
    );

    let contact = c
        .communications
        .create_contact(admin.request(new_contact(clara_voss())))
        .await
        .expect("contact")
        .into_inner()
        .record_id;
    let created = now_micros();
    c.communications
        .grant_consent(admin.request(consent(&contact, comms::Channel::Email)))
        .await
        .expect("consent");
    let then = c
        .communications
        .get_as_of(as_of(&admin, &contact, Some(created)))
        .await
        .expect("contact as of")
        .into_inner();
    assert_eq!((then.record_type.as_str(), then.version), ("contact", 1));
    let s = state(&then);
    assert_eq!(s["name"], "Clara Voss");
    assert_eq!(s["compliance"]["channels"], serde_json::json!({}), "{s}");
    let now = state(
        &c.communications
            .get_as_of(as_of(&admin, &contact, None))
            .await
            .expect("contact now")
            .into_inner(),
    );
    assert_eq!(
        now["compliance"]["channels"]["email"]["consent"]["status"], "granted",
        "{now}"
    );
    // A deal's id is no contact.
    assert_status(
        c.communications.get_as_of(as_of(&admin, &deal, None)).await,
        Code::NotFound,
        "no contact",
    );
}

#[tokio::test]
async fn the_tenant_reads_as_it_was_and_credentials_are_never_shown() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let registered = now_micros();
    let auditor = c.colleague(&admin, tenancy::Role::Auditor, "audrey").await;

    let then = c
        .tenancy
        .get_as_of(as_of(&auditor, &admin.tenant_id, Some(registered)))
        .await
        .expect("tenant as of")
        .into_inner();
    assert_eq!(then.record_type, "tenant");
    let s = state(&then);
    assert_eq!(s["slug"], "berg", "{s}");
    assert_eq!(s["members"].as_object().map(|m| m.len()), Some(1), "{s}");
    assert_eq!(s["members"][&admin.user_id]["role"], "admin", "{s}");
    let now = state(
        &c.tenancy
            .get_as_of(as_of(&auditor, &admin.tenant_id, None))
            .await
            .expect("tenant now")
            .into_inner(),
    );
    assert_eq!(now["members"][&auditor.user_id]["role"], "auditor", "{now}");

    // A user id names a credentials stream: never shown.
    assert_status(
        c.tenancy
            .get_as_of(as_of(&admin, &admin.user_id, None))
            .await,
        Code::NotFound,
        "no tenant",
    );
    // Another tenant.
    let other = c.register("voss").await;
    assert_status(
        c.tenancy
            .get_as_of(as_of(&other, &admin.tenant_id, None))
            .await,
        Code::NotFound,
        "no tenant",
    );
}
