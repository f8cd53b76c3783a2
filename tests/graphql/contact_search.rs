//! Finding a contact (ADR 0036): by part of the name, and by email address
//! or phone number through their blind indexes, within the caller's
//! tenant only; a forgotten contact is found by neither any more.

use crate::World;
use deedlog_tests::{Gql, Session};
use serde_json::{json, Value};
use uuid::Uuid;

const CREATE: &str = "mutation($k: UUID!, $name: String!, $email: String, $phone: String) { createContact(command: {idempotencyKey: $k}, details: {name: $name, email: $email, phone: $phone}) { recordId position } }";

const SEARCH: &str = "query($p: Int64!, $s: String, $first: Int, $after: String) { atLeast(position: $p, timeoutMs: 10000) { contacts(search: $s, first: $first, after: $after) { edges { cursor node { contactId name email phone } } pageInfo { hasNextPage endCursor } } } }";

const FORGET: &str = "mutation($k: UUID!, $id: UUID!) { forgetContact(command: {idempotencyKey: $k}, contactId: $id) { position } }";

/// Creates a contact; returns its id and the position to read at.
async fn create(gql: &Gql, user: &Session, name: &str, email: &str, phone: &str) -> (Value, Value) {
    let vars = json!({"k": Uuid::now_v7(), "name": name, "email": email, "phone": phone});
    let created = gql.run_as(user, CREATE, vars).await;
    let result = &created.data()["createContact"];
    (result["recordId"].clone(), result["position"].clone())
}

/// The names `search` finds, in order, reading at `position`.
async fn names(gql: &Gql, user: &Session, position: &Value, search: &str) -> Vec<String> {
    let vars = json!({"p": position, "s": search, "first": 50});
    let answer = gql.run_as(user, SEARCH, vars).await;
    answer.data()["atLeast"]["contacts"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn contacts_are_found_by_name_part_email_and_phone_in_any_spelling() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let other = w.clients.register("other").await;
    let (anna, _) = create(
        &w.gql,
        &admin,
        "Anna Schmidt",
        "Anna.Schmidt@Example.com",
        "+49 30 1234567",
    )
    .await;
    create(
        &w.gql,
        &admin,
        "Johanna Berg",
        "jo@berg.example",
        "+4917012345678",
    )
    .await;
    create(
        &w.gql,
        &admin,
        "Bob Stone",
        "bob@stone.example",
        "+4940111222",
    )
    .await;
    // Another tenant's contact with the very same address and number.
    let (_, at) = create(
        &w.gql,
        &other,
        "Anna Other",
        "anna.schmidt@example.com",
        "+4930 1234567",
    )
    .await;
    let (gql, at) = (&w.gql, &at);

    assert_eq!(
        names(gql, &admin, at, "").await,
        ["Anna Schmidt", "Bob Stone", "Johanna Berg"]
    );
    assert_eq!(
        names(gql, &admin, at, "ANNA").await,
        ["Anna Schmidt", "Johanna Berg"]
    );
    assert_eq!(
        names(gql, &admin, at, "  anna.schmidt@EXAMPLE.com ").await,
        ["Anna Schmidt"]
    );
    assert_eq!(
        names(gql, &admin, at, "+49 (30) 123-4567").await,
        ["Anna Schmidt"]
    );
    assert_eq!(
        names(gql, &admin, at, "+49 30 1234568").await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(gql, &admin, at, "schmidt@example.com").await,
        Vec::<String>::new(),
        "exact addresses only"
    );
    assert_eq!(
        names(gql, &other, at, "anna.schmidt@example.com").await,
        ["Anna Other"]
    );

    // A page at a time, by name.
    let first = gql
        .run_as(&admin, SEARCH, json!({"p": at, "first": 2}))
        .await;
    let page = &first.data()["atLeast"]["contacts"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "{page}");
    let vars = json!({"p": at, "first": 2, "after": page["pageInfo"]["endCursor"]});
    let second = gql.run_as(&admin, SEARCH, vars).await;
    let page = &second.data()["atLeast"]["contacts"];
    assert_eq!(page["edges"][0]["node"]["name"], "Johanna Berg", "{page}");
    assert_eq!(page["pageInfo"]["hasNextPage"], false, "{page}");

    // Forgotten: neither the address, the number nor the name finds Anna.
    let forgotten = gql
        .run_as(&admin, FORGET, json!({"k": Uuid::now_v7(), "id": anna}))
        .await;
    let at = &forgotten.data()["forgetContact"]["position"];
    assert_eq!(
        names(gql, &admin, at, "anna.schmidt@example.com").await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(gql, &admin, at, "+4930 1234567").await,
        Vec::<String>::new()
    );
    assert_eq!(names(gql, &admin, at, "anna").await, ["Johanna Berg"]);
    assert_eq!(
        names(gql, &other, at, "+4930 1234567").await,
        ["Anna Other"]
    );
}

#[tokio::test]
async fn a_malformed_search_or_cursor_is_refused_with_the_rule() {
    let (w, admin) = World::with_tenant("berg").await;
    let cases = [
        (
            json!({"p": 0, "s": "anna@"}),
            "email address such as anna@example.com",
        ),
        (json!({"p": 0, "s": "030 1234567"}), "+ and 7 to 15 digits"),
        (
            json!({"p": 0, "s": "a".repeat(201)}),
            "at most 200 characters",
        ),
        (
            json!({"p": 0, "after": "not-a-cursor"}),
            "is not a cursor of this list",
        ),
        (json!({"p": 0, "first": 0}), "1 to 100 rows"),
    ];
    for (vars, text) in cases {
        w.gql
            .refused_as(&admin, SEARCH, vars, "BAD_USER_INPUT", text)
            .await;
    }
}
