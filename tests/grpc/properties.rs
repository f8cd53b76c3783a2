//! The properties service over gRPC: every command's happy path, bad
//! arguments naming their field, rule refusals naming the allowed moves,
//! conflicts and the retry, repeated command ids, suspended tenants and
//! switched-off modules.

use crate::{assert_invalid_field, assert_listing_refused, assert_status, error_info};
use deedlog_proto::common::v1::{Date, Money};
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{command, command_with};
use deedlog_tests::fixtures::{
    archive, eur, listed_apartment, reactivate, reprice, restore, set_module,
};
use deedlog_tests::{start_with_tenant, Clients, TestCluster};
use tonic::Code;
use uuid::Uuid;

/// The listing's address, with coordinates.
fn address() -> Option<pb::Address> {
    listed_apartment().address
}

/// The version a command call leaves its record at, expecting success.
macro_rules! version_after {
    ($call:expr, $why:literal) => {
        $call.await.expect($why).into_inner().version
    };
}

#[tokio::test]
async fn every_property_command_works() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let created = c.create_property(&agent, listed_apartment()).await;
    assert_eq!(created.version, 1);
    assert!(created.position > 0);
    let id = created.record_id.clone();
    let owner = c.contact(&admin, "Olga Owner").await;
    let p = &mut c.properties;
    let mut versions = vec![];
    versions.push(version_after!(
        p.change_address(agent.request(pb::ChangeAddressRequest {
            command: command(),
            property_id: id.clone(),
            address: address().map(|a| pb::Address {
                street: "Lindenstraße 7".into(),
                ..a
            }),
        })),
        "address"
    ));
    let sourced = |value| {
        Some(pb::SourcedInt {
            value,
            provenance: Some(pb::Provenance {
                source: pb::SourceKind::Manual.into(),
                provider: String::new(),
                confidence_pct: 90,
            }),
        })
    };
    versions.push(version_after!(
        p.change_attributes(agent.request(pb::ChangeAttributesRequest {
            command: command(),
            property_id: id.clone(),
            attributes: Some(pb::Attributes {
                rooms: sourced(3),
                living_area_m2: sourced(82),
                ..Default::default()
            }),
        })),
        "attributes"
    ));
    versions.push(version_after!(
        p.change_asking_price(agent.request(reprice(&id, eur(43_000_000)))),
        "price"
    ));
    versions.push(version_after!(
        p.record_valuation(agent.request(pb::RecordValuationRequest {
            command: command(),
            property_id: id.clone(),
            value: eur(44_000_000),
            source: Some(pb::Provenance {
                source: pb::SourceKind::Provider.into(),
                provider: "PriceHubble".into(),
                confidence_pct: 80,
            }),
            valued_on: Some(Date {
                year: 2026,
                month: 11,
                day: 1,
            }),
        })),
        "valuation"
    ));
    versions.push(version_after!(
        p.change_listing_status(agent.request(pb::ChangeListingStatusRequest {
            command: command(),
            property_id: id.clone(),
            status: pb::ListingStatus::Active.into(),
        })),
        "status"
    ));
    versions.push(version_after!(
        p.assign_agent(agent.request(pb::AssignAgentRequest {
            command: command(),
            property_id: id.clone(),
            agent_id: admin.user_id.clone(),
        })),
        "assign"
    ));
    versions.push(version_after!(
        p.set_owner(admin.request(pb::SetOwnerRequest {
            command: command(),
            property_id: id.clone(),
            owner_contact_id: owner,
        })),
        "owner"
    ));
    versions.push(version_after!(
        p.add_tag(agent.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: "garden".into(),
        })),
        "tag"
    ));
    versions.push(version_after!(
        p.remove_tag(agent.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: "balcony".into(),
        })),
        "untag"
    ));
    versions.push(version_after!(
        p.archive_property(admin.request(archive(&id))),
        "archive"
    ));
    assert_status(
        p.add_tag(agent.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: "x".into(),
        }))
        .await,
        Code::FailedPrecondition,
        "archived",
    );
    versions.push(version_after!(
        p.restore_property(admin.request(restore(&id))),
        "restore"
    ));
    assert_eq!(
        versions,
        (2..=12).collect::<Vec<u64>>(),
        "each command appended one event"
    );
}

#[tokio::test]
async fn bad_arguments_name_their_field_and_store_nothing() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let cases = [
        (
            pb::CreatePropertyRequest {
                address: address().map(|a| pb::Address {
                    country: "Germany".into(),
                    ..a
                }),
                ..listed_apartment()
            },
            "address.country",
        ),
        (
            pb::CreatePropertyRequest {
                kind: 0,
                ..listed_apartment()
            },
            "kind",
        ),
        (
            pb::CreatePropertyRequest {
                asking_price: Some(Money {
                    amount_minor: 1,
                    currency: "euro".into(),
                }),
                ..listed_apartment()
            },
            "asking_price.currency",
        ),
        (
            pb::CreatePropertyRequest {
                property_id: "not-a-uuid".into(),
                ..listed_apartment()
            },
            "property_id",
        ),
        (
            pb::CreatePropertyRequest {
                agent_id: Uuid::now_v7().to_string(),
                ..listed_apartment()
            },
            "agent_id",
        ),
    ];
    for (request, field) in cases {
        assert_invalid_field(
            c.properties.create_property(admin.request(request)).await,
            "",
            field,
        );
    }
    let first = c.create_property(&admin, listed_apartment()).await;
    assert_eq!(first.version, 1, "the refused commands left nothing behind");
}

#[tokio::test]
async fn a_refused_status_move_names_the_allowed_moves() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let id = c.listing(&admin).await;
    let status = assert_status(
        c.properties
            .change_listing_status(admin.request(pb::ChangeListingStatusRequest {
                command: command(),
                property_id: id,
                status: pb::ListingStatus::Sold.into(),
            }))
            .await,
        Code::FailedPrecondition,
        "cannot move from draft to sold; allowed: active",
    );
    // The same, for programs: google.rpc.ErrorInfo (docs/errors.md).
    let (reason, details) = error_info(&status);
    assert_eq!(reason, "LISTING_MOVE_NOT_ALLOWED");
    assert_eq!(details["from"], "draft");
    assert_eq!(details["to"], "sold");
    assert_eq!(details["allowed"], "active");
}

#[tokio::test]
async fn a_stale_expected_version_conflicts_and_concurrent_commands_retry() {
    // Each lost race means another command won, so with 20 writers 19 retries
    // always suffice: every command must land.
    let cluster = TestCluster::start_with(|f| f.merge(("services.conflict_retries", 19))).await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let id = c.listing(&admin).await;
    let tag = |tag: &str, expected| pb::TagRequest {
        command: command_with(Uuid::now_v7(), expected),
        property_id: id.clone(),
        tag: tag.into(),
    };
    c.properties
        .add_tag(admin.request(tag("a", Some(1))))
        .await
        .expect("at version 1");
    let status = assert_status(
        c.properties.add_tag(admin.request(tag("b", Some(1)))).await,
        Code::Aborted,
        "at version 2, not the expected version 1",
    );
    let (reason, details) = error_info(&status);
    assert_eq!(reason, "VERSION_CONFLICT");
    assert_eq!(details["recordId"], id);
    assert_eq!(details["expectedVersion"], "1");
    assert_eq!(details["actualVersion"], "2");
    // Twenty concurrent commands on one record without an expected version:
    // each loses races and is re-decided, and all of them land.
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..20 {
        let mut client = c.properties.clone();
        let request = admin.request(tag(&format!("t{n}"), None));
        calls.spawn(async move { client.add_tag(request).await });
    }
    let mut versions = vec![];
    while let Some(done) = calls.join_next().await {
        versions.push(done.expect("join").expect("tag lands").into_inner().version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (3..=22).collect::<Vec<u64>>());
}

#[tokio::test]
async fn the_same_command_id_twice_returns_the_first_outcome() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let request = listed_apartment();
    let first = c.create_property(&admin, request.clone()).await;
    let again = c.create_property(&admin, request).await;
    assert!(again.duplicate);
    assert_eq!(
        (first.record_id, first.version, first.position),
        (again.record_id, again.version, again.position)
    );
}

#[tokio::test]
async fn a_suspended_tenant_or_a_module_switched_off_takes_no_commands() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    c.tenancy
        .set_module(admin.request(set_module(tenancy::Module::Properties, false)))
        .await
        .expect("module off");
    assert_listing_refused(
        &mut c,
        &admin,
        Code::FailedPrecondition,
        "properties module is switched off",
    )
    .await;
    c.tenancy
        .set_module(admin.request(set_module(tenancy::Module::Properties, true)))
        .await
        .expect("module on");
    c.suspend(&admin).await;
    assert_listing_refused(&mut c, &admin, Code::FailedPrecondition, "suspended").await;
    c.tenancy
        .reactivate_tenant(admin.request(reactivate(&admin.tenant_id)))
        .await
        .expect("reactivate");
    c.create_property(&admin, listed_apartment()).await;
}
