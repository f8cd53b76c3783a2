//! The gateway's response cache (ADR 0041) is exact: a read after a write
//! shows the write, callers never share an answer, errors are not kept, a
//! rebuild swapped in and a lost LISTEN session both drop what was kept.
//! Whether an answer came from the cache is read from the gateway's
//! `/metrics` (`deedlog_gateway_response_cache_total{outcome="hit"}`).

use crate::{create_property, World};
use deedlog_proto::tenancy::v1::Role;
use deedlog_tests::{Gql, Session};
use serde_json::{json, Value};
use sqlx::Connection;
use std::time::{Duration, Instant};
use uuid::Uuid;

const PRICE: &str = "query($id: UUID!) { property(id: $id) { askingPriceMinor } }";
const PRICE_AT_LEAST: &str = "query($id: UUID!, $p: Int64!) { atLeast(position: $p) { property(id: $id) { askingPriceMinor } } }";
const REPRICE: &str = "mutation($k: UUID!, $id: UUID!, $price: Int64!) { changeAskingPrice(command: {idempotencyKey: $k}, propertyId: $id, askingPrice: {amountMinor: $price, currency: \"EUR\"}) { position } }";

/// A counter of the gateway's `/metrics`, by its series (name and labels).
async fn counter(gql: &Gql, series: &str) -> u64 {
    let text = gql.get("/metrics").await.text().await.expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn hits(gql: &Gql) -> u64 {
    counter(gql, "deedlog_gateway_response_cache_total{outcome=\"hit\"}").await
}

fn position(data: &Value) -> i64 {
    data["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .or_else(|| data["position"].as_i64())
        .expect("a position")
}

/// A property asking `price`, readable through the gateway; its id.
async fn listed(w: &World, admin: &Session, price: i64) -> Value {
    let created = create_property(&w.gql, &admin.access, "Berlin", price).await;
    let id = created["recordId"].clone();
    let read = w
        .gql
        .run_as(
            admin,
            PRICE_AT_LEAST,
            json!({"id": id, "p": position(&created)}),
        )
        .await;
    assert_eq!(
        read.data()["atLeast"]["property"]["askingPriceMinor"],
        json!(price.to_string()),
        "{}",
        read.body
    );
    id
}

/// The asking price `user` reads now, and whether it came from the cache.
async fn price(w: &World, user: &Session, id: &Value) -> (Value, bool) {
    let before = hits(&w.gql).await;
    let answer = w.gql.run_as(user, PRICE, json!({ "id": id })).await;
    let price = answer.data()["property"]["askingPriceMinor"].clone();
    (price, hits(&w.gql).await > before)
}

/// Reads the price until an answer comes from the cache (the first is
/// kept, the second served); panics if none does within 10 s.
async fn cached_price(w: &World, user: &Session, id: &Value) -> Value {
    let started = Instant::now();
    loop {
        let (price, hit) = price(w, user, id).await;
        if hit {
            return price;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no answer came from the cache"
        );
    }
}

async fn reprice(w: &World, admin: &Session, id: &Value, price: i64) -> i64 {
    let vars = json!({"k": Uuid::now_v7(), "id": id, "price": price});
    let answer = w.gql.run_as(admin, REPRICE, vars).await;
    position(&answer.data()["changeAskingPrice"])
}

#[tokio::test]
async fn a_read_your_writes_read_after_a_cached_read_shows_the_write() {
    let (w, admin) = World::with_tenant("cache-ryw").await;
    let id = listed(&w, &admin, 45_000_000).await;
    assert_eq!(cached_price(&w, &admin, &id).await, json!("45000000"));

    let at = reprice(&w, &admin, &id, 39_000_000).await;
    let read = w
        .gql
        .run_as(&admin, PRICE_AT_LEAST, json!({"id": id, "p": at}))
        .await;
    assert_eq!(
        read.data()["atLeast"]["property"]["askingPriceMinor"],
        json!("39000000"),
        "the read-your-writes read shows the write: {}",
        read.body
    );
    // And so does every read after it: the cache never goes back.
    let (price, _) = price(&w, &admin, &id).await;
    assert_eq!(price, json!("39000000"), "a plain read after it");
    assert_eq!(cached_price(&w, &admin, &id).await, json!("39000000"));
}

#[tokio::test]
async fn tenants_and_viewers_never_share_an_answer() {
    let (mut w, admin) = World::with_tenant("cache-one").await;
    let other = w.clients.register("cache-two").await;
    let viewer = w.colleague(&admin, Role::Viewer, "vera").await;
    let query = "{ tenant { slug } me { userId } }";
    for _ in 0..2 {
        for (user, slug) in [
            (&admin, "cache-one"),
            (&other, "cache-two"),
            (&viewer, "cache-one"),
        ] {
            let answer = w.gql.run_as(user, query, json!({})).await;
            assert_eq!(
                answer.data()["tenant"]["slug"],
                json!(slug),
                "{}",
                answer.body
            );
            assert_eq!(
                answer.data()["me"]["userId"],
                json!(user.user_id),
                "{}",
                answer.body
            );
        }
    }
    // Role-dependent: the admin's list of users, kept, is not the viewer's.
    let users = "{ users { userId } }";
    let listed = w.gql.run_as(&admin, users, json!({})).await;
    assert!(listed.data()["users"].is_array(), "{}", listed.body);
    let before = hits(&w.gql).await;
    let again = w.gql.run_as(&admin, users, json!({})).await;
    assert_eq!(again.body, listed.body);
    assert!(
        hits(&w.gql).await > before,
        "the admin's second read is kept"
    );
    w.gql
        .refused_as(&viewer, users, json!({}), "FORBIDDEN", "list users")
        .await;
}

#[tokio::test]
async fn an_answer_with_errors_is_not_kept() {
    let (w, admin) = World::with_tenant("cache-errors").await;
    let query = "query($id: UUID!) { tenant { slug } property(id: $id) { street } }";
    let vars = json!({ "id": Uuid::now_v7() });
    let before = hits(&w.gql).await;
    for _ in 0..3 {
        let answer = w.gql.run_as(&admin, query, vars.clone()).await;
        answer.assert_error("NOT_FOUND", "property");
        // A partial answer: data beside the error, kept by no one.
        assert_eq!(answer.body["data"]["tenant"]["slug"], json!("cache-errors"));
    }
    assert_eq!(hits(&w.gql).await, before, "no answer came from the cache");
    let unkept = counter(
        &w.gql,
        "deedlog_gateway_response_cache_total{outcome=\"unkept\"}",
    )
    .await;
    assert!(unkept >= 3, "every answer was run and not kept: {unkept}");
}

#[tokio::test]
async fn a_rebuild_swapped_in_drops_what_was_kept() {
    let (w, admin) = World::with_tenant("cache-rebuild").await;
    let id = listed(&w, &admin, 45_000_000).await;
    // A read model gone wrong (as a bug would leave it), which no
    // checkpoint announces: kept as it is read.
    let mut conn = sqlx::PgConnection::connect_with(&w.cluster.database_options())
        .await
        .expect("connect");
    sqlx::query(
        "UPDATE rm_properties.properties SET asking_price_minor = 1 WHERE property_id = $1",
    )
    .bind(Uuid::parse_str(id.as_str().expect("an id")).expect("a UUID"))
    .execute(&mut conn)
    .await
    .expect("damage the read model");
    assert_eq!(cached_price(&w, &admin, &id).await, json!("1"));

    crate::rebuild(&w, "properties").await;
    let (price, hit) = price(&w, &admin, &id).await;
    assert_eq!(price, json!("45000000"), "the rebuilt read model is read");
    assert!(!hit, "read afresh");
}

#[tokio::test]
async fn a_lost_listen_session_bypasses_the_cache_until_it_is_back() {
    let (w, admin) = World::with_tenant("cache-listen").await;
    let id = listed(&w, &admin, 45_000_000).await;
    assert_eq!(cached_price(&w, &admin, &id).await, json!("45000000"));

    let options = w.cluster.database_options();
    let mut conn = sqlx::PgConnection::connect_with(&options)
        .await
        .expect("connect");
    // Holds the gateway's reload of the checkpoints (and the properties
    // projector) for as long as the test needs the session down.
    let mut hold = sqlx::PgConnection::connect_with(&options)
        .await
        .expect("connect");
    let mut held = hold.begin().await.expect("begin");
    sqlx::query("LOCK TABLE rm_properties.checkpoint IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *held)
        .await
        .expect("lock the checkpoint");
    let session = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                   AND query LIKE 'LISTEN%deedlog_checkpoints%'";
    let pid: i32 = sqlx::query_scalar(session)
        .fetch_one(&mut conn)
        .await
        .expect("the gateway listens");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut conn)
        .await
        .expect("terminate the LISTEN session");
    assert!(killed);

    // Once the gateway sees the session gone, nothing is served from the
    // cache until it has listened again and reloaded the checkpoints.
    let bypass = "deedlog_gateway_response_cache_total{outcome=\"bypass\"}";
    let bypassed = counter(&w.gql, bypass).await;
    let started = Instant::now();
    loop {
        let (price, hit) = price(&w, &admin, &id).await;
        assert_eq!(price, json!("45000000"));
        if !hit {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still served from the cache after the session was lost"
        );
    }
    for _ in 0..3 {
        let (_, hit) = price(&w, &admin, &id).await;
        assert!(
            !hit,
            "served from the cache before the checkpoints were reloaded"
        );
    }
    assert!(counter(&w.gql, bypass).await >= bypassed + 4);

    // Written while the session is down; applied once the lock is gone.
    let at = reprice(&w, &admin, &id, 39_000_000).await;
    held.rollback().await.expect("release the checkpoint");
    w.cluster
        .wait_for_read_models(u64::try_from(at).expect("a position"))
        .await;
    let (price, _) = price(&w, &admin, &id).await;
    assert_eq!(price, json!("39000000"), "fresh after the write");
    // Back: listening again, loaded, and serving fresh answers from the cache.
    assert_eq!(cached_price(&w, &admin, &id).await, json!("39000000"));
    let back: i32 = sqlx::query_scalar(session)
        .fetch_one(&mut conn)
        .await
        .expect("the gateway listens again");
    assert_ne!(back, pid);
}
