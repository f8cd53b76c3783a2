//! `GetAsOf` over gRPC: a record's state as of an instant, rebuilt from the
//! log, for admins and auditors only, and never another tenant's record.

use crate::{assert_status, violated_field};
use deedlog_proto::common::v1::{AsOfRequest, RecordState};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::fixtures::{clara_voss, consent, eur, listed_apartment, move_stage, reprice};
use deedlog_tests::{start_with_tenant, Clients, Session};
use serde_json::Value;
use tonic::Code;
use uuid::Uuid;

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Reads a record as it was through `$client`'s `GetAsOf` (every service
/// has one, each on its own client type), expecting an answer.
macro_rules! read_as_of {
    ($client:expr, $request:expr, $why:literal) => {
        $client.get_as_of($request).await.expect($why).into_inner()
    };
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
    let then = read_as_of!(
        c.properties,
        as_of(&auditor, &id, Some(between)),
        "as of between"
    );
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
    let latest = read_as_of!(c.properties, as_of(&admin, &id, None), "as of now");
    assert_eq!(latest.version, 3);
    assert!(latest.position > then.position);
    assert_eq!(state(&latest)["asking_price"]["amount_minor"], 47_000_000);

    let nobodys = Uuid::now_v7().to_string();
    let other = c.register("voss").await;
    // (who, record, at, refusal, text, the field a bad argument names)
    let refusals = [
        // Before it was created: not found.
        (
            &admin,
            id.as_str(),
            Some(before_creation),
            Code::NotFound,
            "no property",
            None,
        ),
        // A record nobody has: the same answer.
        (&admin, &nobodys, None, Code::NotFound, "no property", None),
        // Another tenant's admin: the same answer, nothing leaks.
        (&other, &id, None, Code::NotFound, "no property", None),
        // Roles that may not read the audit history.
        (
            &agent,
            &id,
            None,
            Code::PermissionDenied,
            "only admins and auditors",
            None,
        ),
        // Bad arguments name their field.
        (
            &admin,
            "not-a-uuid",
            None,
            Code::InvalidArgument,
            "not a UUID",
            Some("record_id"),
        ),
        (
            &admin,
            &id,
            Some(i64::MAX),
            Code::InvalidArgument,
            "not an instant",
            Some("at_unix_micros"),
        ),
    ];
    for (who, record, at, code, text, field) in refusals {
        let status = assert_status(
            c.properties.get_as_of(as_of(who, record, at)).await,
            code,
            text,
        );
        if let Some(field) = field {
            assert_eq!(violated_field(&status), field);
        }
    }
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
    let suspended = read_as_of!(
        c.properties,
        as_of(&auditor, &id, None),
        "read while suspended"
    );
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
    let then = read_as_of!(c.deals, as_of(&admin, &deal, Some(opened)), "deal as of");
    assert_eq!((then.record_type.as_str(), then.version), ("deal", 1));
    assert_eq!(state(&then)["stage"], "lead");
    let now = read_as_of!(c.deals, as_of(&admin, &deal, None), "deal now");
    assert_eq!(now.version, 2);
    assert_eq!(state(&now)["stage"], "qualified");
    assert_status(
        c.deals.get_as_of(as_of(&viewer, &deal, None)).await,
        Code::PermissionDenied,
        "only admins and auditors",
    );

    let contact = c.contact_with(&admin, clara_voss()).await;
    let created = now_micros();
    c.communications
        .grant_consent(admin.request(consent(&contact, comms::Channel::Email)))
        .await
        .expect("consent");
    let then = read_as_of!(
        c.communications,
        as_of(&admin, &contact, Some(created)),
        "contact as of"
    );
    assert_eq!((then.record_type.as_str(), then.version), ("contact", 1));
    let s = state(&then);
    assert_eq!(s["name"], "Clara Voss");
    assert_eq!(s["compliance"]["channels"], serde_json::json!({}), "{s}");
    let now = state(&read_as_of!(
        c.communications,
        as_of(&admin, &contact, None),
        "contact now"
    ));
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

    let then = read_as_of!(
        c.tenancy,
        as_of(&auditor, &admin.tenant_id, Some(registered)),
        "tenant as of"
    );
    assert_eq!(then.record_type, "tenant");
    let s = state(&then);
    assert_eq!(s["slug"], "berg", "{s}");
    assert_eq!(s["members"].as_object().map(|m| m.len()), Some(1), "{s}");
    assert_eq!(s["members"][&admin.user_id]["role"], "admin", "{s}");
    let now = state(&read_as_of!(
        c.tenancy,
        as_of(&auditor, &admin.tenant_id, None),
        "tenant now"
    ));
    assert_eq!(now["members"][&auditor.user_id]["role"], "auditor", "{now}");

    let other = c.register("voss").await;
    // A user id names a credentials stream: never shown; nor is the tenant
    // to another tenant.
    for (who, record) in [(&admin, &admin.user_id), (&other, &admin.tenant_id)] {
        assert_status(
            c.tenancy.get_as_of(as_of(who, record, None)).await,
            Code::NotFound,
            "no tenant",
        );
    }
}
