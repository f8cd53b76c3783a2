//! Queries over the read models: a mutation reads its own write, filters
//! and cursor pages, a page costs a bounded number of statements, and bad
//! arguments are refused with BAD_USER_INPUT.

use crate::{create_property, World};
use serde_json::json;

#[tokio::test]
async fn a_mutation_reads_its_own_write_and_pages_follow_filters() {
    let mut w = World::start().await;
    let admin = w.clients.register("berg").await;
    let created = create_property(&w.gql, &admin, "Berlin", 45_000_000).await;
    assert_eq!(created["version"], 1);
    assert!(created["position"].as_u64().expect("position") > 0);
    assert_eq!(created["duplicate"], false);
    // The `property` field waited for the read model: the write is visible.
    assert_eq!(
        created["property"],
        json!({"propertyId": created["recordId"], "city": "Berlin", "askingPriceMinor": 45_000_000,
               "listingStatus": "draft", "tags": ["balcony"]})
    );
    for (city, price) in [
        ("Berlin", 30_000_000),
        ("Hamburg", 50_000_000),
        ("Berlin", 60_000_000),
    ] {
        create_property(&w.gql, &admin, city, price).await;
    }
    let query = r#"query($after: String) {
      properties(filter: {city: "Berlin", minPriceMinor: 40000000}, order: PRICE_ASC, first: 1, after: $after) {
        edges { cursor node { city askingPriceMinor timeline { edges { node { summary } } } } }
        pageInfo { hasNextPage endCursor }
      }
    }"#;
    let first = w
        .gql
        .run(Some(&admin.access), query, json!({"after": null}))
        .await;
    let page = &first.data()["properties"];
    assert_eq!(page["edges"][0]["node"]["askingPriceMinor"], 45_000_000);
    assert_eq!(
        page["edges"][0]["node"]["timeline"]["edges"][0]["node"]["summary"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second = w
        .gql
        .run(
            Some(&admin.access),
            query,
            json!({"after": page["pageInfo"]["endCursor"]}),
        )
        .await;
    let page = &second.data()["properties"];
    assert_eq!(page["edges"][0]["node"]["askingPriceMinor"], 60_000_000);
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // A later query asks for at least the position a mutation returned.
    let changed = w
        .gql
        .run(
            Some(&admin.access),
            "mutation($k: UUID!, $id: UUID!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $id, askingPrice: {amountMinor: 44000000, currency: \"EUR\"}) { position } }",
            json!({"k": uuid::Uuid::now_v7(), "id": created["recordId"]}),
        )
        .await;
    let position = changed.data()["changeAskingPrice"]["position"].clone();
    let read = w
        .gql
        .run(
            Some(&admin.access),
            "query($p: Int!, $id: UUID!) { atLeast(position: $p, timeoutMs: 5000) { property(id: $id) { askingPriceMinor priceHistory { toMinor } } } }",
            json!({"p": position, "id": created["recordId"]}),
        )
        .await;
    assert_eq!(
        read.data()["atLeast"]["property"],
        json!({"askingPriceMinor": 44_000_000, "priceHistory": [{"toMinor": 45_000_000}, {"toMinor": 44_000_000}]})
    );
    // A position the log has not reached: a clear error once the wait runs out.
    let ahead = w
        .gql
        .run(
            Some(&admin.access),
            "{ atLeast(position: 999999999, timeoutMs: 200) { tenant { slug } } }",
            json!({}),
        )
        .await;
    ahead.assert_error("INTERNAL", "not yet 999999999");
    assert_eq!(
        ahead.body["errors"][0]["extensions"]["reason"],
        "READ_MODEL_BEHIND"
    );
    let too_long = w
        .gql
        .run(
            Some(&admin.access),
            "{ atLeast(position: 1, timeoutMs: 600000) { tenant { slug } } }",
            json!({}),
        )
        .await;
    too_long.assert_error("BAD_USER_INPUT", "timeoutMs may be at most");
}

#[tokio::test]
async fn bad_arguments_are_refused_with_bad_user_input() {
    let mut w = World::start().await;
    let admin = w.clients.register("berg").await;
    let cases = [
        (
            "{ properties(first: 101) { edges { cursor } } }",
            "1 to 100",
        ),
        ("{ properties(first: 0) { edges { cursor } } }", "1 to 100"),
        (
            "{ properties(after: \"garbage\") { edges { cursor } } }",
            "not a cursor",
        ),
        (
            "{ properties(filter: {status: \"on_fire\"}) { edges { cursor } } }",
            "is not one of",
        ),
        (
            "{ properties(order: SIDEWAYS) { edges { cursor } } }",
            "SIDEWAYS",
        ),
        ("{ property(id: \"not-a-uuid\") { city } }", "UUID"),
        ("{ pipelineOn(day: \"yesterday\") { stage } }", ""),
        (
            "{ priceChanges(from: \"2026-02-01\", to: \"2026-01-01\") { changes } }",
            "is after",
        ),
        ("{ properties { edges { nope } } }", "nope"),
        ("{ properties(", ""),
    ];
    for (query, text) in cases {
        let answer = w.gql.run(Some(&admin.access), query, json!({})).await;
        answer.assert_error("BAD_USER_INPUT", text);
    }
}
