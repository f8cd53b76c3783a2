//! Command ids as idempotency keys: a true repeat answers with the first
//! outcome, the same id with another request is refused, and keys belong
//! to their tenant.

use crate::assert_invalid_field;
use deedlog_proto::common::v1::Money;
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::command_with;
use deedlog_tests::fixtures::listed_apartment;
use deedlog_tests::{start_connected, start_with_tenant, LogCounts};
use uuid::Uuid;

/// Asserts the refusal of a reused command id with another request.
#[track_caller]
fn assert_mismatch<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    assert_invalid_field(result, "different request", "command.command_id");
}

#[tokio::test]
async fn a_command_id_reused_with_another_request_is_refused_and_a_true_repeat_is_not() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let property = c.listing(&admin).await;

    let id = Uuid::now_v7();
    let price = |minor: i64| pb::ChangeAskingPriceRequest {
        command: command_with(id, None),
        property_id: property.clone(),
        asking_price: Some(Money {
            amount_minor: minor,
            currency: "EUR".into(),
        }),
    };
    // The same command id with the price `minor`.
    let properties = c.properties.clone();
    let change = |minor| {
        let mut properties = properties.clone();
        let request = admin.request(price(minor));
        async move { properties.change_asking_price(request).await }
    };
    let first = change(47_000_000).await.expect("first").into_inner();
    let rename = |name: &str| tenancy::RenameTenantRequest {
        command: command_with(Uuid::from_u128(id.as_u128() ^ 1), None),
        name: name.into(),
    };
    c.tenancy
        .rename_tenant(admin.request(rename("Berg Immobilien GmbH")))
        .await
        .expect("rename");
    let contact = |name: &str| comms::CreateContactRequest {
        command: command_with(Uuid::from_u128(id.as_u128() ^ 2), None),
        contact_id: String::new(),
        details: Some(comms::ContactDetails {
            name: name.into(),
            email: "clara@example.com".into(),
            ..Default::default()
        }),
    };
    c.communications
        .create_contact(admin.request(contact("Clara Voss")))
        .await
        .expect("contact");
    let before = LogCounts::of(&cluster).await;

    assert_mismatch(change(52_000_000).await);
    assert_mismatch(
        c.tenancy
            .rename_tenant(admin.request(rename("Other")))
            .await,
    );
    assert_mismatch(
        c.communications
            .create_contact(admin.request(contact("Someone Else")))
            .await,
    );
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing stored");

    let again = change(47_000_000)
        .await
        .expect("a true repeat")
        .into_inner();
    assert!(again.duplicate);
    assert_eq!(
        (again.version, again.position),
        (first.version, first.position)
    );
    assert_eq!(LogCounts::of(&cluster).await, before);
}

#[tokio::test]
async fn tenants_use_command_ids_independently() {
    let (_cluster, mut c) = start_connected().await;
    let berg = c.register("berg").await;
    let tal = c.register("tal").await;
    let id = Uuid::now_v7();
    let create = || pb::CreatePropertyRequest {
        command: command_with(id, None),
        ..listed_apartment()
    };
    let first = c.create_property(&berg, create()).await;
    // The other tenant's same key is its own command: no refusal, no hint.
    let second = c.create_property(&tal, create()).await;
    assert!(!second.duplicate);
    assert_ne!(first.position, second.position);
}
