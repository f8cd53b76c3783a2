//! Records a command names must be records of the caller's tenant: a deal's
//! property and buyer, a property's owner, a message's property and deal.
//! Anything else (made up, another tenant's, another kind) is NOT_FOUND
//! naming the request's field, and nothing is stored.

use crate::{assert_status, violated_field};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use deedlog_tests::clients::{command, house_in_berlin};
use deedlog_tests::{start_connected, Clients, LogCounts, Session};
use tonic::Code;
use uuid::Uuid;

/// Two tenants, each with a property and a contact.
struct Two {
    berg: Session,
    lind: Session,
    berg_property: String,
    berg_contact: String,
    lind_property: String,
    lind_contact: String,
}

async fn two_tenants(c: &mut Clients) -> Two {
    let berg = c.register("berg").await;
    let lind = c.register("lind").await;
    Two {
        berg_property: c.property(&berg).await,
        berg_contact: c.contact(&berg, "Ben Buyer").await,
        lind_property: c.property(&lind).await,
        lind_contact: c.contact(&lind, "Lia Lind").await,
        berg,
        lind,
    }
}

fn open(property: &str, buyer: &str) -> deals::OpenDealRequest {
    deals::OpenDealRequest {
        command: command(),
        property_id: property.to_owned(),
        buyer_contact_id: buyer.to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_deal_names_a_property_and_a_buyer_of_its_own_tenant() {
    let (cluster, mut c) = start_connected().await;
    let t = two_tenants(&mut c).await;
    let unknown = Uuid::now_v7().to_string();
    let before = LogCounts::of(&cluster).await;
    let refused = [
        (open(&unknown, &t.berg_contact), "property_id"),
        (open(&t.lind_property, &t.berg_contact), "property_id"),
        // A contact is not a property.
        (open(&t.berg_contact, &t.berg_contact), "property_id"),
        (open(&t.berg_property, &unknown), "buyer_contact_id"),
        (open(&t.berg_property, &t.lind_contact), "buyer_contact_id"),
        (open(&t.berg_property, &t.berg_property), "buyer_contact_id"),
    ];
    for (request, field) in refused {
        let status = assert_status(
            c.deals.open_deal(t.berg.request(request)).await,
            Code::NotFound,
            field,
        );
        assert!(
            status.message().contains("in your tenant"),
            "{}",
            status.message()
        );
        assert_eq!(violated_field(&status), field);
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");
    c.deals
        .open_deal(t.berg.request(open(&t.berg_property, &t.berg_contact)))
        .await
        .expect("a deal of the tenant's own records opens");
    c.deals
        .open_deal(t.lind.request(open(&t.lind_property, &t.lind_contact)))
        .await
        .expect("and so does the other tenant's");
}

#[tokio::test]
async fn a_property_owner_is_a_contact_of_the_tenant() {
    let (cluster, mut c) = start_connected().await;
    let t = two_tenants(&mut c).await;
    let before = LogCounts::of(&cluster).await;
    for owner in [
        Uuid::now_v7().to_string(),
        t.lind_contact.clone(),
        t.berg_property.clone(),
    ] {
        let create = props::CreatePropertyRequest {
            owner_contact_id: owner.clone(),
            ..house_in_berlin()
        };
        assert_status(
            c.properties.create_property(t.berg.request(create)).await,
            Code::NotFound,
            "owner_contact_id",
        );
        let set = props::SetOwnerRequest {
            command: command(),
            property_id: t.berg_property.clone(),
            owner_contact_id: owner,
        };
        assert_status(
            c.properties.set_owner(t.berg.request(set)).await,
            Code::NotFound,
            "owner_contact_id",
        );
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");
    let create = props::CreatePropertyRequest {
        owner_contact_id: t.berg_contact.clone(),
        ..house_in_berlin()
    };
    c.properties
        .create_property(t.berg.request(create))
        .await
        .expect("the tenant's own contact owns a property");
    for owner in [t.berg_contact.clone(), String::new()] {
        let set = props::SetOwnerRequest {
            command: command(),
            property_id: t.berg_property.clone(),
            owner_contact_id: owner,
        };
        c.properties
            .set_owner(t.berg.request(set))
            .await
            .expect("an owner of the tenant, or none");
    }
}

#[tokio::test]
async fn a_message_names_a_property_and_a_deal_of_the_tenant() {
    let (cluster, mut c) = start_connected().await;
    let t = two_tenants(&mut c).await;
    let lind_deal = c
        .deals
        .open_deal(t.lind.request(open(&t.lind_property, &t.lind_contact)))
        .await
        .expect("open")
        .into_inner()
        .record_id;
    let send = |property: &str, deal: &str| comms::SendMessageRequest {
        command: command(),
        contact_id: t.berg_contact.clone(),
        channel: comms::Channel::Letter.into(),
        body: "Guten Tag".into(),
        property_id: property.to_owned(),
        deal_id: deal.to_owned(),
        ..Default::default()
    };
    let before = LogCounts::of(&cluster).await;
    let refused = [
        (send(&Uuid::now_v7().to_string(), ""), "property_id"),
        (send(&t.lind_property, ""), "property_id"),
        (send("", &Uuid::now_v7().to_string()), "deal_id"),
        (send("", &lind_deal), "deal_id"),
        (send(&t.berg_property, &t.berg_property), "deal_id"),
    ];
    for (request, field) in refused {
        assert_status(
            c.communications.send_message(t.berg.request(request)).await,
            Code::NotFound,
            field,
        );
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");
}
