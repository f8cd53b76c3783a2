//! The properties service over gRPC: every command's happy path, bad
//! arguments naming their field, rule refusals naming the allowed moves,
//! conflicts and the retry, repeated command ids, suspended tenants and
//! switched-off modules.

use crate::{assert_status, error_info, violated_field};
use deedlog_proto::common::v1::{CommandReply, Date, Money};
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{command, command_with};
use deedlog_tests::{Clients, Session, TestCluster};
use tonic::Code;
use uuid::Uuid;

fn eur(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "EUR".into(),
    })
}

fn address() -> Option<pb::Address> {
    Some(pb::Address {
        street: "Lindenstraße 5".into(),
        postal_code: "10969".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        latitude: Some(52.5),
        longitude: Some(13.4),
    })
}

pub fn new_property() -> pb::CreatePropertyRequest {
    pb::CreatePropertyRequest {
        command: command(),
        address: address(),
        kind: pb::PropertyKind::Apartment.into(),
        asking_price: eur(45_000_000),
        tags: vec!["balcony".into()],
        ..Default::default()
    }
}

async fn create(c: &mut Clients, s: &Session) -> CommandReply {
    c.properties
        .create_property(s.request(new_property()))
        .await
        .expect("create property")
        .into_inner()
}

#[tokio::test]
async fn every_property_command_works() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let created = create(&mut c, &agent).await;
    assert_eq!(created.version, 1);
    assert!(created.position > 0);
    let id = created.record_id.clone();
    let owner = c.contact(&admin, "Olga Owner").await;
    let p = &mut c.properties;
    let mut versions = vec![];
    versions.push(
        p.change_address(agent.request(pb::ChangeAddressRequest {
            command: command(),
            property_id: id.clone(),
            address: address().map(|a| pb::Address {
                street: "Lindenstraße 7".into(),
                ..a
            }),
        }))
        .await
        .expect("address")
        .into_inner()
        .version,
    );
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
    versions.push(
        p.change_attributes(agent.request(pb::ChangeAttributesRequest {
            command: command(),
            property_id: id.clone(),
            attributes: Some(pb::Attributes {
                rooms: sourced(3),
                living_area_m2: sourced(82),
                ..Default::default()
            }),
        }))
        .await
        .expect("attributes")
        .into_inner()
        .version,
    );
    versions.push(
        p.change_asking_price(agent.request(pb::ChangeAskingPriceRequest {
            command: command(),
            property_id: id.clone(),
            asking_price: eur(43_000_000),
        }))
        .await
        .expect("price")
        .into_inner()
        .version,
    );
    versions.push(
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
        }))
        .await
        .expect("valuation")
        .into_inner()
        .version,
    );
    versions.push(
        p.change_listing_status(agent.request(pb::ChangeListingStatusRequest {
            command: command(),
            property_id: id.clone(),
            status: pb::ListingStatus::Active.into(),
        }))
        .await
        .expect("status")
        .into_inner()
        .version,
    );
    versions.push(
        p.assign_agent(agent.request(pb::AssignAgentRequest {
            command: command(),
            property_id: id.clone(),
            agent_id: admin.user_id.clone(),
        }))
        .await
        .expect("assign")
        .into_inner()
        .version,
    );
    versions.push(
        p.set_owner(admin.request(pb::SetOwnerRequest {
            command: command(),
            property_id: id.clone(),
            owner_contact_id: owner,
        }))
        .await
        .expect("owner")
        .into_inner()
        .version,
    );
    versions.push(
        p.add_tag(agent.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: "garden".into(),
        }))
        .await
        .expect("tag")
        .into_inner()
        .version,
    );
    versions.push(
        p.remove_tag(agent.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: "balcony".into(),
        }))
        .await
        .expect("untag")
        .into_inner()
        .version,
    );
    versions.push(
        p.archive_property(admin.request(pb::ArchivePropertyRequest {
            command: command(),
            property_id: id.clone(),
        }))
        .await
        .expect("archive")
        .into_inner()
        .version,
    );
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
    versions.push(
        p.restore_property(admin.request(pb::RestorePropertyRequest {
            command: command(),
            property_id: id.clone(),
        }))
        .await
        .expect("restore")
        .into_inner()
        .version,
    );
    assert_eq!(
        versions,
        (2..=12).collect::<Vec<u64>>(),
        "each command appended one event"
    );
}

#[tokio::test]
async fn bad_arguments_name_their_field_and_store_nothing() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let cases = [
        (
            pb::CreatePropertyRequest {
                address: address().map(|a| pb::Address {
                    country: "Germany".into(),
                    ..a
                }),
                ..new_property()
            },
            "address.country",
        ),
        (
            pb::CreatePropertyRequest {
                kind: 0,
                ..new_property()
            },
            "kind",
        ),
        (
            pb::CreatePropertyRequest {
                asking_price: Some(Money {
                    amount_minor: 1,
                    currency: "euro".into(),
                }),
                ..new_property()
            },
            "asking_price.currency",
        ),
        (
            pb::CreatePropertyRequest {
                property_id: "not-a-uuid".into(),
                ..new_property()
            },
            "property_id",
        ),
        (
            pb::CreatePropertyRequest {
                agent_id: Uuid::now_v7().to_string(),
                ..new_property()
            },
            "agent_id",
        ),
    ];
    for (request, field) in cases {
        let status = assert_status(
            c.properties.create_property(admin.request(request)).await,
            Code::InvalidArgument,
            "",
        );
        assert_eq!(violated_field(&status), field, "{status:?}");
    }
    let first = create(&mut c, &admin).await;
    assert_eq!(first.version, 1, "the refused commands left nothing behind");
}

#[tokio::test]
async fn a_refused_status_move_names_the_allowed_moves() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let id = create(&mut c, &admin).await.record_id;
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
    let id = create(&mut c, &admin).await.record_id;
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
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let request = new_property();
    let first = c
        .properties
        .create_property(admin.request(request.clone()))
        .await
        .expect("first")
        .into_inner();
    let again = c
        .properties
        .create_property(admin.request(request))
        .await
        .expect("again")
        .into_inner();
    assert!(again.duplicate);
    assert_eq!(
        (first.record_id, first.version, first.position),
        (again.record_id, again.version, again.position)
    );
}

#[tokio::test]
async fn a_suspended_tenant_or_a_module_switched_off_takes_no_commands() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    c.tenancy
        .set_module(admin.request(tenancy::SetModuleRequest {
            command: command(),
            module: tenancy::Module::Properties.into(),
            enabled: false,
        }))
        .await
        .expect("module off");
    assert_status(
        c.properties
            .create_property(admin.request(new_property()))
            .await,
        Code::FailedPrecondition,
        "properties module is switched off",
    );
    c.tenancy
        .set_module(admin.request(tenancy::SetModuleRequest {
            command: command(),
            module: tenancy::Module::Properties.into(),
            enabled: true,
        }))
        .await
        .expect("module on");
    c.tenancy
        .suspend_tenant(admin.request(tenancy::SuspendTenantRequest {
            command: command(),
            tenant_id: admin.tenant_id.clone(),
        }))
        .await
        .expect("suspend");
    assert_status(
        c.properties
            .create_property(admin.request(new_property()))
            .await,
        Code::FailedPrecondition,
        "suspended",
    );
    c.tenancy
        .reactivate_tenant(admin.request(tenancy::ReactivateTenantRequest {
            command: command(),
            tenant_id: admin.tenant_id.clone(),
        }))
        .await
        .expect("reactivate");
    create(&mut c, &admin).await;
}
