//! Queries over the read models: a mutation reads its own write, filters
//! and cursor pages, a page costs a bounded number of statements, and bad
//! arguments are refused with BAD_USER_INPUT.

use crate::{create_property, far_ahead, World};
use serde_json::json;

#[tokio::test]
async fn a_mutation_reads_its_own_write_and_pages_follow_filters() {
    let (w, admin) = World::with_tenant("berg").await;
    let created = create_property(&w.gql, &admin.access, "Berlin", 45_000_000).await;
    assert_eq!(created["version"], "1");
    assert!(
        created["position"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
            .expect("a position as a string of digits")
            > 0
    );
    assert_eq!(created["duplicate"], false);
    // The `property` field waited for the read model: the write is visible.
    assert_eq!(
        created["property"],
        json!({"propertyId": created["recordId"], "city": "Berlin", "askingPriceMinor": "45000000",
               "listingStatus": "draft", "tags": ["balcony"]})
    );
    for (city, price) in [
        ("Berlin", 30_000_000),
        ("Hamburg", 50_000_000),
        ("Berlin", 60_000_000),
    ] {
        create_property(&w.gql, &admin.access, city, price).await;
    }
    let query = r#"query($after: String) {
      properties(filter: {city: "Berlin", minPriceMinor: 40000000}, order: PRICE_ASC, first: 1, after: $after) {
        edges { cursor node { city askingPriceMinor timeline { edges { node { summary } } } } }
        pageInfo { hasNextPage endCursor }
      }
    }"#;
    let first = w.gql.run_as(&admin, query, json!({"after": null})).await;
    let page = &first.data()["properties"];
    assert_eq!(page["edges"][0]["node"]["askingPriceMinor"], "45000000");
    assert_eq!(
        page["edges"][0]["node"]["timeline"]["edges"][0]["node"]["summary"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second = w
        .gql
        .run_as(
            &admin,
            query,
            json!({"after": page["pageInfo"]["endCursor"]}),
        )
        .await;
    let page = &second.data()["properties"];
    assert_eq!(page["edges"][0]["node"]["askingPriceMinor"], "60000000");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // A later query asks for at least the position a mutation returned.
    let changed = w
        .gql
        .run_as(
            &admin,
            "mutation($k: UUID!, $id: UUID!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $id, askingPrice: {amountMinor: 44000000, currency: \"EUR\"}) { position } }",
            json!({"k": uuid::Uuid::now_v7(), "id": created["recordId"]}),
        )
        .await;
    let position = changed.data()["changeAskingPrice"]["position"].clone();
    let read = w
        .gql
        .run_as(
            &admin,
            "query($p: Int64!, $id: UUID!) { atLeast(position: $p, timeoutMs: 5000) { property(id: $id) { askingPriceMinor priceHistory { toMinor } } } }",
            json!({"p": position, "id": created["recordId"]}),
        )
        .await;
    assert_eq!(
        read.data()["atLeast"]["property"],
        json!({"askingPriceMinor": "44000000", "priceHistory": [{"toMinor": "45000000"}, {"toMinor": "44000000"}]})
    );
    // A position the log has not reached: a clear error once the wait runs out.
    far_ahead(&w.gql, &admin, 200).await;
    w.gql
        .refused_as(
            &admin,
            "{ atLeast(position: 1, timeoutMs: 600000) { tenant { slug } } }",
            json!({}),
            "BAD_USER_INPUT",
            "timeoutMs may be at most",
        )
        .await;
}

#[tokio::test]
async fn bad_arguments_are_refused_with_bad_user_input() {
    let (w, admin) = World::with_tenant("berg").await;
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
            "{ properties(filter: {status: ON_FIRE}) { edges { cursor } } }",
            "ON_FIRE",
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
        w.gql
            .refused_as(&admin, query, json!({}), "BAD_USER_INPUT", text)
            .await;
    }
}

#[tokio::test]
async fn auditors_read_a_records_events_and_its_state_as_of_an_earlier_instant() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let auditor = w
        .colleague(&admin, deedlog_proto::tenancy::v1::Role::Auditor, "aud")
        .await;
    let other = w.clients.register("voss").await;
    let created = create_property(&w.gql, &admin.access, "Berlin", 100).await;
    let id = created["recordId"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    w.gql
        .run_as(
            &admin,
            "mutation($k: UUID!, $id: UUID!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $id, askingPrice: {amountMinor: 200, currency: \"EUR\"}) { version } }",
            json!({"k": uuid::Uuid::now_v7(), "id": id}),
        )
        .await
        .data();

    let events = w
        .gql
        .run_as(
            &auditor,
            "query($id: UUID!, $user: UUID!) { auditEvents(filter: {record: $id, user: $user}) { edges { node { version eventType actor correlationId causationId payload } } } }",
            json!({"id": id, "user": admin.user_id}),
        )
        .await;
    let edges = events.data()["auditEvents"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    let types: Vec<&str> = edges
        .iter()
        .filter_map(|e| e["node"]["eventType"].as_str())
        .collect();
    assert_eq!(types, ["PropertyCreated", "AskingPriceChanged"]);
    assert_eq!(edges[0]["node"]["actor"], format!("user:{}", admin.user_id));
    assert!(edges[1]["node"]["correlationId"].is_string());

    let as_of = "query($id: UUID!, $at: DateTime) { asOf(kind: PROPERTY, id: $id, at: $at) { version recordType state } }";
    let then = w
        .gql
        .run_as(&auditor, as_of, json!({"id": id, "at": between}))
        .await;
    let then = &then.data()["asOf"];
    assert_eq!(then["version"], "1");
    assert_eq!(then["recordType"], "property");
    assert_eq!(then["state"]["asking_price"]["amount_minor"], 100, "{then}");
    let now = w
        .gql
        .run_as(&auditor, as_of, json!({"id": id, "at": null}))
        .await;
    assert_eq!(
        now.data()["asOf"]["state"]["asking_price"]["amount_minor"],
        200
    );

    // Agents may not; another tenant's auditor-equivalent (its admin) finds nothing.
    let refused = w
        .gql
        .run_as(&admin, as_of, json!({"id": id, "at": null}))
        .await;
    refused.data();
    let agent = w
        .colleague(&admin, deedlog_proto::tenancy::v1::Role::Agent, "ada")
        .await;
    for (who, code, text) in [(&other, "NOT_FOUND", ""), (&agent, "FORBIDDEN", "audit")] {
        let latest = json!({"id": id, "at": null});
        w.gql.refused_as(who, as_of, latest, code, text).await;
    }
    let list = w
        .gql
        .run_as(
            &other,
            "query($id: UUID!) { auditEvents(filter: {record: $id}) { edges { cursor } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(list.data()["auditEvents"]["edges"], json!([]));
    let runs = w
        .gql
        .run_as(
            &auditor,
            "{ reconciliationRuns { projection status } }",
            json!({}),
        )
        .await;
    assert_eq!(runs.data()["reconciliationRuns"], json!([]));
}

/// The gateway's count of read transactions, from `/metrics`.
async fn read_transactions(w: &World) -> u64 {
    let text = w.gql.get("/metrics").await.text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("deedlog_gateway_read_transactions_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("the read transactions counter") as u64
}

#[tokio::test]
async fn a_page_of_any_size_reads_its_nested_rows_in_one_batch_each() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let agent = w
        .colleague(&admin, deedlog_proto::tenancy::v1::Role::Agent, "ada")
        .await;
    for i in 0..6 {
        create_property(&w.gql, &agent.access, "Berlin", 100 + i).await;
    }
    let query = "query($n: Int!) { properties(first: $n) { edges { node { city agent { displayName } priceHistory { toMinor } valuations { valueMinor } } } } }";
    let mut costs = Vec::new();
    for n in [1, 6] {
        let before = read_transactions(&w).await;
        let answer = w.gql.run_as(&admin, query, json!({"n": n})).await;
        let edges = answer.data()["properties"]["edges"]
            .as_array()
            .expect("edges")
            .clone();
        assert_eq!(edges.len(), n as usize);
        assert!(edges
            .iter()
            .all(|e| e["node"]["agent"]["displayName"] == "ada"));
        costs.push(read_transactions(&w).await - before);
    }
    assert_eq!(
        costs,
        [4, 4],
        "one for the page, one each for all its agents, price histories and valuations"
    );
}
