//! The `Int64` scalar end to end (ADR 0028): amounts beyond 32 bits go in
//! and come back exactly, as strings of digits; a returned log position is
//! a string that works when sent back to `atLeast`; text and fractions for
//! an `Int64` argument are BAD_USER_INPUT naming the argument.

use crate::{World, CREATE_PROPERTY};
use serde_json::{json, Value};
use uuid::Uuid;

const AT_LEAST: &str = "query($p: Int64!, $id: UUID!) { atLeast(position: $p, timeoutMs: 5000) { property(id: $id) { askingPriceMinor version lastPosition priceHistory { position toMinor } } } }";

#[tokio::test]
async fn amounts_and_positions_beyond_32_bits_round_trip_as_strings() {
    let (w, admin) = World::with_tenant("berg").await;
    let token = Some(admin.access.as_str());

    // 300 000 000 000 minor units: above 2^31, within the domain's 10^13.
    // A property in Berlin asking `price`, an Int64 sent as a string.
    let create = |price: &str| {
        let variables = json!({"key": Uuid::now_v7(), "city": "Berlin", "price": price});
        w.gql.run(token, CREATE_PROPERTY, variables)
    };
    let created = create("300000000000").await;
    let created = created.data()["createProperty"].clone();
    assert_eq!(created["property"]["askingPriceMinor"], "300000000000");
    assert_eq!(created["version"], "1");
    let position = created["position"].clone();
    let parsed: u64 = position
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a position as a string of digits, not {position}"));
    assert!(parsed > 0);

    // The position, sent back as the string it came as, reads the write.
    let read_at = |position: &Value| {
        let variables = json!({"p": position, "id": created["recordId"]});
        w.gql.run(token, AT_LEAST, variables)
    };
    let read = read_at(&position).await;
    let property = &read.data()["atLeast"]["property"];
    assert_eq!(
        property,
        &json!({
            "askingPriceMinor": "300000000000",
            "version": "1",
            "lastPosition": position,
            "priceHistory": [{"position": position, "toMinor": "300000000000"}],
        })
    );
    // As a JSON integer too (small literals keep working).
    let read = read_at(&json!(parsed)).await;
    assert_eq!(
        read.data()["atLeast"]["property"]["askingPriceMinor"],
        "300000000000"
    );

    // Beyond JavaScript's 2^53 the value still arrives exactly, and the
    // domain's bound (10^13) refuses it, naming the field.
    let too_much = create("9007199254740993").await;
    too_much.assert_error("BAD_USER_INPUT", "at most 10^13 minor units");
    assert_eq!(
        too_much.body["errors"][0]["extensions"]["field"], "input.askingPrice.amountMinor",
        "{}",
        too_much.body
    );
}

#[tokio::test]
async fn fractions_and_text_for_an_int64_argument_are_refused_naming_it() {
    let (w, admin) = World::with_tenant("berg").await;
    let token = Some(admin.access.as_str());
    for bad in ["12.5", "abc"] {
        // A query argument, from a variable and as a literal.
        let answer = w
            .gql
            .run(token, AT_LEAST, json!({"p": bad, "id": Uuid::now_v7()}))
            .await;
        answer.assert_error(
            "BAD_USER_INPUT",
            r#"Invalid value for argument "position", expected type "Int64""#,
        );
        let literal = format!("{{ atLeast(position: \"{bad}\") {{ tenant {{ slug }} }} }}");
        w.gql.run(token, &literal, json!({})).await.assert_error(
            "BAD_USER_INPUT",
            r#"Invalid value for argument "position", expected type "Int64""#,
        );
        // A mutation's nested input.
        let answer = w
            .gql
            .run(
                token,
                CREATE_PROPERTY,
                json!({"key": Uuid::now_v7(), "city": "Berlin", "price": bad}),
            )
            .await;
        answer.assert_error(
            "BAD_USER_INPUT",
            r#"Invalid value for argument "input.askingPrice.amountMinor", expected type "Int64""#,
        );
    }
    // A negative position is no log position.
    w.gql
        .run(token, AT_LEAST, json!({"p": "-1", "id": Uuid::now_v7()}))
        .await
        .assert_error(
            "BAD_USER_INPUT",
            "position: a log position or version is 0 or more",
        );
    // Nothing was stored by the refused mutations.
    let listed = w
        .gql
        .run(token, "{ properties { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(listed.data()["properties"]["edges"], json!([]));
}
