//! Small contract points of the gateway: an idempotency key reused with
//! another input, keys of different tenants, and the bearer scheme's case.

use crate::World;
use serde_json::json;
use uuid::Uuid;

const PRICE: &str = "mutation($k: UUID!, $p: UUID!, $m: Int64!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $p, askingPrice: {amountMinor: $m, currency: \"EUR\"}) { version position duplicate } }";

#[tokio::test]
async fn an_idempotency_key_reused_with_another_input_is_refused_and_a_repeat_is_not() {
    let (w, admin) = World::with_tenant("berg").await;
    let property = w.property_id(&admin).await;
    let key = Uuid::now_v7();
    let vars = |minor: i64| json!({"k": key, "p": property, "m": minor});
    let first = w.gql.run_as(&admin, PRICE, vars(47_000_000)).await;
    let first = first.data()["changeAskingPrice"].clone();
    w.gql
        .run_as(&admin, PRICE, vars(52_000_000))
        .await
        .assert_error("BAD_USER_INPUT", "different request");
    let again = w.gql.run_as(&admin, PRICE, vars(47_000_000)).await;
    let again = again.data()["changeAskingPrice"].clone();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["position"], first["position"]);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_at_the_gateway() {
    let (w, admin) = World::with_tenant("berg").await;
    for scheme in ["bearer", "BEARER"] {
        let response = w
            .gql
            .http()
            .post(format!(
                "{}/graphql",
                w.cluster.url(deedlog_cluster::Component::Gateway)
            ))
            .header("authorization", format!("{scheme} {}", admin.access))
            .json(&json!({"query": "{ properties { edges { cursor } } }"}))
            .send()
            .await
            .expect("answer");
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(body["errors"].is_null(), "{scheme}: {body}");
        assert!(body["data"]["properties"]["edges"].is_array(), "{body}");
    }
}
