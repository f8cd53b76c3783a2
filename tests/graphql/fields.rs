//! A bad argument names the mutation's own input in `extensions.field`
//! (`input.offer.amountMinor`, not the service's `offer.amount_minor`);
//! values outside what is real and records of no tenant of the caller's are
//! refused, and nothing is stored.

use crate::{World, CREATE_CONTACT};
use deedlog_tests::LogCounts;
use serde_json::json;
use uuid::Uuid;

const OPEN_DEAL: &str = "mutation($k: UUID!, $input: OpenDealInput!) { openDeal(command: {idempotencyKey: $k}, input: $input) { recordId } }";
const ADD_SCENARIO: &str = "mutation($k: UUID!, $d: UUID!, $s: ScenarioInput!) { addScenario(command: {idempotencyKey: $k}, dealId: $d, scenario: $s) { version } }";

#[tokio::test]
async fn bad_arguments_name_the_graphql_input_in_extensions_field() {
    let w = World::start().await;
    let mut clients = w.clients.clone();
    let admin = clients.register("berg").await;
    let token = Some(admin.access.as_str());
    let property = w.property_id(&admin).await;
    let contact = w.contact_id(&admin, "Ben Buyer").await;
    let deal = w
        .gql
        .run(
            token,
            OPEN_DEAL,
            json!({"k": Uuid::now_v7(), "input": {"propertyId": property, "buyerContactId": contact}}),
        )
        .await
        .data()["openDeal"]["recordId"]
        .clone();
    let before = LogCounts::of(&w.cluster).await;

    let open = |extra: serde_json::Value| {
        let mut input = json!({"propertyId": property, "buyerContactId": contact});
        for (k, v) in extra.as_object().expect("an object") {
            input[k] = v.clone();
        }
        json!({"k": Uuid::now_v7(), "input": input})
    };
    let cases = [
        (
            OPEN_DEAL,
            open(json!({"offer": {"amountMinor": 0, "currency": "EUR"}})),
            "input.offer.amountMinor",
            "greater than 0",
        ),
        (
            OPEN_DEAL,
            open(json!({"commission": {"amountMinor": 100, "currency": "XYZ"}})),
            "input.commission.currency",
            "ISO 4217",
        ),
        (
            OPEN_DEAL,
            open(json!({"expectedClose": "2200-01-01"})),
            "input.expectedClose",
            "1900-01-01 to 2199-12-31",
        ),
        (
            CREATE_CONTACT,
            json!({"k": Uuid::now_v7(), "name": " "}),
            "details.name",
            "1 to 200",
        ),
        (
            CREATE_CONTACT,
            json!({"k": Uuid::now_v7(), "name": "Clara", "email": "clara"}),
            "details.email",
            "email address",
        ),
        (
            ADD_SCENARIO,
            json!({"k": Uuid::now_v7(), "d": deal, "s": {
                "scenarioId": Uuid::now_v7(), "name": "Base",
                "price": {"amountMinor": 100, "currency": "EUR"},
                "costs": [{"label": "Notary", "amount": {"amountMinor": -1, "currency": "EUR"}}]
            }}),
            "scenario.costs[0].amount.amountMinor",
            "must not be negative",
        ),
    ];
    for (mutation, variables, field, text) in cases {
        let answer = w.gql.run(token, mutation, variables).await;
        answer.assert_error("BAD_USER_INPUT", text);
        assert_eq!(
            answer.body["errors"][0]["extensions"]["field"],
            json!(field),
            "{}",
            answer.body
        );
        assert!(
            answer.message().starts_with(&format!("{field}: ")),
            "{}",
            answer.message()
        );
    }

    // A record of no tenant of the caller's is not found, named by its field.
    let answer = w
        .gql
        .run(
            token,
            OPEN_DEAL,
            json!({"k": Uuid::now_v7(), "input": {"propertyId": Uuid::now_v7(), "buyerContactId": contact}}),
        )
        .await;
    answer.assert_error("NOT_FOUND", "input.propertyId: there is no property");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["field"],
        json!("input.propertyId")
    );
    assert_eq!(LogCounts::of(&w.cluster).await, before, "nothing is stored");
}
