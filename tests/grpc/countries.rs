//! One rule for the country of an address, on properties and contacts alike
//! (deedlog_kernel::normalise_country): an ISO 3166-1 alpha-2 code in any
//! letter case, with surrounding whitespace, is stored upper-case; a name, a
//! single letter or a code no country has is refused with INVALID_ARGUMENT
//! naming the request's field (`address.country` of a property,
//! `details.address.country` of a contact), and nothing is stored.

use crate::assert_invalid_field;
use deedlog_proto::common::v1::AsOfRequest;
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::properties::v1 as pb;
use deedlog_tests::clients::command;
use deedlog_tests::fixtures::listed_apartment;
use deedlog_tests::{start_with_tenant, Session};
use serde_json::Value;

const ACCEPTED: [&str; 3] = ["de", " De ", "DE"];
const REFUSED: [&str; 4] = ["Deutschland", "D", "XX", ""];

fn with_country(country: &str) -> pb::CreatePropertyRequest {
    let request = listed_apartment();
    pb::CreatePropertyRequest {
        address: request.address.clone().map(|a| pb::Address {
            country: country.into(),
            ..a
        }),
        ..request
    }
}

fn contact_with_country(country: &str) -> comms::CreateContactRequest {
    comms::CreateContactRequest {
        command: command(),
        contact_id: String::new(),
        details: Some(comms::ContactDetails {
            name: "Clara Voss".into(),
            email: "clara@example.com".into(),
            phone: String::new(),
            address: Some(comms::PostalAddress {
                street: "Lindenstraße 5".into(),
                postal_code: "10969".into(),
                city: "Berlin".into(),
                country: country.into(),
            }),
        }),
    }
}

fn as_of(s: &Session, record: &str) -> tonic::Request<AsOfRequest> {
    s.request(AsOfRequest {
        record_id: record.to_owned(),
        at_unix_micros: None,
    })
}

/// The stored state's `address.country`.
fn stored_country(state_json: &str) -> String {
    let state: Value = serde_json::from_str(state_json).expect("state_json is JSON");
    state["address"]["country"]
        .as_str()
        .unwrap_or_else(|| panic!("no address.country in {state}"))
        .to_owned()
}

#[tokio::test]
async fn a_property_country_in_any_case_is_stored_upper_case_and_a_non_code_is_refused() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    for given in ACCEPTED {
        let created = c
            .properties
            .create_property(admin.request(with_country(given)))
            .await
            .unwrap_or_else(|e| panic!("{given:?} is accepted: {e:?}"))
            .into_inner();
        let state = c
            .properties
            .get_as_of(as_of(&admin, &created.record_id))
            .await
            .expect("as of")
            .into_inner();
        assert_eq!(stored_country(&state.state_json), "DE", "{given:?}");
    }
    // Changing the address to the same country in another case changes nothing.
    let id = c
        .create_property(&admin, with_country("DE"))
        .await
        .record_id;
    let same = c
        .properties
        .change_address(admin.request(pb::ChangeAddressRequest {
            command: command(),
            property_id: id.clone(),
            address: with_country(" de ").address,
        }))
        .await
        .expect("same address, lower case")
        .into_inner();
    assert_eq!(same.version, 1, "no event for the same address");
    for given in REFUSED {
        assert_invalid_field(
            c.properties
                .create_property(admin.request(with_country(given)))
                .await,
            "ISO 3166-1 alpha-2",
            "address.country",
        );
        assert_invalid_field(
            c.properties
                .change_address(admin.request(pb::ChangeAddressRequest {
                    command: command(),
                    property_id: id.clone(),
                    address: with_country(given).address,
                }))
                .await,
            "ISO 3166-1 alpha-2",
            "address.country",
        );
    }
    let state = c
        .properties
        .get_as_of(as_of(&admin, &id))
        .await
        .expect("as of")
        .into_inner();
    assert_eq!(state.version, 1, "the refused changes stored nothing");
}

#[tokio::test]
async fn a_contact_country_follows_the_same_rule() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    for given in ACCEPTED {
        let created = c
            .communications
            .create_contact(admin.request(contact_with_country(given)))
            .await
            .unwrap_or_else(|e| panic!("{given:?} is accepted: {e:?}"))
            .into_inner();
        let state = c
            .communications
            .get_as_of(as_of(&admin, &created.record_id))
            .await
            .expect("as of")
            .into_inner();
        assert_eq!(stored_country(&state.state_json), "DE", "{given:?}");
    }
    for given in REFUSED {
        assert_invalid_field(
            c.communications
                .create_contact(admin.request(contact_with_country(given)))
                .await,
            "ISO 3166-1 alpha-2",
            "details.address.country",
        );
    }
}
