//! `GetAsOf` over gRPC: a record's state as of an instant, rebuilt from the
//! log, for admins and auditors only, and never another tenant's record.

use crate::properties::new_property;
use crate::{assert_status, violated_field};
use deedlog_proto::common::v1::{AsOfRequest, Money, RecordState};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::command;
use deedlog_tests::{Clients, Session, TestCluster};
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

fn eur(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "EUR".into(),
    })
}

async fn change_price(c: &mut Clients, s: &Session, id: &str, minor: i64) -> u64 {
    c.properties
        .change_asking_price(s.request(pb::ChangeAskingPriceRequest {
            command: command(),
            property_id: id.to_owned(),
            asking_price: eur(minor),
        }))
        .await
        .expect("change price")
        .into_inner()
        .version
}

#[tokio::test]
async fn a_property_reads_as_it_was_at_any_instant_for_admins_and_auditors_only() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let auditor = c.colleague(&admin, tenancy::Role::Auditor, "audrey").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;

    let before_creation = now_micros();
    let created = c
        .properties
        .create_property(agent.request(new_property()))
        .await
        .expect("create")
        .into_inner();
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
    c.tenancy
        .suspend_tenant(admin.request(tenancy::SuspendTenantRequest {
            command: command(),
            tenant_id: admin.tenant_id.clone(),
        }))
        .await
        .expect("suspend");
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
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let viewer = c.colleague(&admin, tenancy::Role::Viewer, "vic").await;

    let request = deals::OpenDealRequest {
        offer: eur(40_000_000),
        ..c.new_deal(&admin).await
    };
    let deal = c
        .deals
        .open_deal(admin.request(request))
        .await
        .expect("open deal")
        .into_inner()
        .record_id;
    let opened = now_micros();
    c.deals
        .move_stage(admin.request(deals::MoveStageRequest {
            command: command(),
            deal_id: deal.clone(),
            stage: deals::Stage::Qualified.into(),
        }))
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
        .create_contact(admin.request(comms::CreateContactRequest {
            command: command(),
            contact_id: String::new(),
            details: Some(comms::ContactDetails {
                name: "Clara Voss".into(),
                email: "clara@example.com".into(),
                phone: "+4930123456".into(),
                address: None,
            }),
        }))
        .await
        .expect("contact")
        .into_inner()
        .record_id;
    let created = now_micros();
    c.communications
        .grant_consent(admin.request(comms::GrantConsentRequest {
            command: command(),
            contact_id: contact.clone(),
            channel: comms::Channel::Email.into(),
            lawful_basis: comms::LawfulBasis::Consent.into(),
            source: "web form".into(),
        }))
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
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
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
