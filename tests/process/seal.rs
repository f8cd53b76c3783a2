//! `deedlog audit verify` against a database superuser (ADR 0037): with
//! the triggers disabled, one edited column, one deleted event or one row
//! inserted into a hole makes verification exit 1 naming that position;
//! an untouched log verifies. Proofs check offline with the public key.

use crate::shutdown::run_deedlog;
use deedlog_tests::fixtures::{apartment, eur, reprice};
use deedlog_tests::{Clients, Session, TestCluster};
use sqlx::{ConnectOptions, PgConnection};
use std::time::Duration;

/// A whole cluster (with its sealer) and a tenant with some history.
async fn sealed_log() -> (TestCluster, Clients, Session) {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    for price in [41_000_000, 42_000_000] {
        let id = c.create_property(&admin, apartment()).await.record_id;
        c.properties
            .change_asking_price(admin.request(reprice(&id, eur(price))))
            .await
            .expect("reprice");
    }
    wait_sealed(&cluster).await;
    (cluster, c, admin)
}

/// A superuser's connection to the cluster's database.
async fn superuser(cluster: &TestCluster) -> PgConnection {
    cluster.database_options().connect().await.expect("connect")
}

/// Waits until the sealer has sealed every event of the log.
async fn wait_sealed(cluster: &TestCluster) {
    let mut db = superuser(cluster).await;
    for _ in 0..200 {
        let (head, sealed): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT max(position) FROM events), (SELECT max(last_position) FROM seal_blocks)",
        )
        .fetch_one(&mut db)
        .await
        .expect("positions");
        if head.is_some() && sealed >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sealer did not catch up with the log");
}

/// Runs `sql` as a superuser with the log's triggers off, as an attacker
/// who owns the database would.
async fn tamper(cluster: &TestCluster, sql: &str) {
    let mut db = superuser(cluster).await;
    sqlx::raw_sql(&format!(
        "ALTER TABLE events DISABLE TRIGGER USER; {sql}; ALTER TABLE events ENABLE TRIGGER USER;"
    ))
    .execute(&mut db)
    .await
    .expect("tamper");
}

/// A position in the middle of the log.
async fn middle(cluster: &TestCluster) -> i64 {
    let mut db = superuser(cluster).await;
    sqlx::query_scalar("SELECT max(position) / 2 FROM events")
        .fetch_one(&mut db)
        .await
        .expect("middle")
}

/// `deedlog audit verify` fails naming `position` and `kind`.
fn refused_at(cluster: &TestCluster, position: i64, kind: &str) {
    let (ok, out, err) = run_deedlog(&cluster.database, &["audit", "verify"]);
    assert!(!ok, "verify passed after tampering: {out}");
    assert!(
        err.contains(&format!("position {position}: {kind}")),
        "expected position {position}: {kind} in: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untouched_log_verifies_and_its_proofs_check_offline() {
    let (cluster, _c, _admin) = sealed_log().await;
    let (ok, out, err) = run_deedlog(&cluster.database, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("intact: positions 1..="), "{out}");
    assert!(out.contains("head: block"), "{out}");

    // A property's event (a user's credentials event is never shown).
    let mut db = superuser(&cluster).await;
    let position: i64 =
        sqlx::query_scalar("SELECT min(position) FROM events WHERE stream_type = 'property'")
            .fetch_one(&mut db)
            .await
            .expect("a property event");
    let position = position.to_string();
    let (ok, proof, err) = run_deedlog(&cluster.database, &["audit", "proof", &position]);
    assert!(ok, "{err}");
    let credentials: i64 =
        sqlx::query_scalar("SELECT min(position) FROM events WHERE stream_type = 'credentials'")
            .fetch_one(&mut db)
            .await
            .expect("a credentials event");
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "proof", &credentials.to_string()],
    );
    assert!(!ok && err.contains("never shown"), "{err}");
    let key = public_key_of(&out);
    let file = std::env::temp_dir().join(format!("{}-proof.json", cluster.database));
    std::fs::write(&file, &proof).expect("write the proof");
    let path = file.to_str().expect("a path");
    let (ok, out, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify-proof", path, "--public-key", &key],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("position {position}")), "{out}");

    // One byte of the event changed: the proof no longer holds.
    let mut doc: serde_json::Value = serde_json::from_str(&proof).expect("JSON");
    let actor = doc["event"]["actor"].as_str().expect("actor").to_owned();
    doc["event"]["actor"] = format!("{}X", &actor[..actor.len() - 1]).into();
    std::fs::write(&file, doc.to_string()).expect("write");
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify-proof", path, "--public-key", &key],
    );
    assert!(!ok && err.contains("is not the one sealed"), "{err}");
    // Another key: refused too.
    let other = "iscAaJfC3Wv6HbPV7fqDfiA8No22EvpW/A1vNc+7O6U=";
    std::fs::write(&file, &proof).expect("write");
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify-proof", path, "--public-key", other],
    );
    assert!(!ok && err.contains("not with the given key"), "{err}");
    let _ = std::fs::remove_file(&file);
}

/// The public key `deedlog audit verify` reports the head signed with.
fn public_key_of(out: &str) -> String {
    out.split("public key ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no public key in {out}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_payload_is_named_by_its_position() {
    let (cluster, _c, _admin) = sealed_log().await;
    let at = middle(&cluster).await;
    tamper(
        &cluster,
        &format!(
            "UPDATE events SET payload = '{{\"tampered\": true}}'::json WHERE position = {at}"
        ),
    )
    .await;
    refused_at(&cluster, at, "edited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_occurred_at_is_named_by_its_position() {
    let (cluster, _c, _admin) = sealed_log().await;
    let at = middle(&cluster).await;
    tamper(
        &cluster,
        &format!(
            "UPDATE events SET occurred_at = occurred_at - interval '1 day' WHERE position = {at}"
        ),
    )
    .await;
    refused_at(&cluster, at, "edited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_is_named_by_its_position() {
    let (cluster, _c, _admin) = sealed_log().await;
    let at = middle(&cluster).await;
    tamper(
        &cluster,
        &format!("DELETE FROM events WHERE position = {at}"),
    )
    .await;
    refused_at(&cluster, at, "deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_inserted_into_a_hole_is_named_by_its_position() {
    let (cluster, mut c, admin) = sealed_log().await;
    // A hole: a position taken and never filled, as a rolled-back append leaves.
    let mut db = superuser(&cluster).await;
    let hole: i64 = sqlx::query_scalar("SELECT nextval('events_position_seq')")
        .fetch_one(&mut db)
        .await
        .expect("take a position");
    c.create_property(&admin, apartment()).await;
    wait_sealed(&cluster).await;
    // Later, a row slipped into the hole: a copy of an event under a new stream.
    tamper(
        &cluster,
        &format!(
            "INSERT INTO events SELECT {hole}, tenant_id, gen_random_uuid(), stream_type, version, \
             event_type, schema_version, payload, actor, gen_random_uuid(), correlation_id, \
             causation_id, traceparent, tracestate, occurred_at, recorded_at \
             FROM events WHERE position = {hole} - 1"
        ),
    )
    .await;
    refused_at(&cluster, hole, "inserted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_verifies_its_own_events_whatever_happened_to_another_tenants() {
    let (cluster, mut c, admin) = sealed_log().await;
    let other = c.register("other").await;
    c.create_property(&other, apartment()).await;
    wait_sealed(&cluster).await;
    let mut db = superuser(&cluster).await;
    let of = |tenant: &str| {
        format!("SELECT max(position) FROM events WHERE tenant_id = '{tenant}' AND stream_type = 'property'")
    };
    let others: i64 = sqlx::query_scalar(&of(&other.tenant_id))
        .fetch_one(&mut db)
        .await
        .expect("position");
    let mine: i64 = sqlx::query_scalar(&of(&admin.tenant_id))
        .fetch_one(&mut db)
        .await
        .expect("position");
    tamper(
        &cluster,
        &format!("UPDATE events SET actor = 'user:intruder' WHERE position = {others}"),
    )
    .await;

    let (ok, out, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify", "--tenant", &admin.tenant_id],
    );
    assert!(
        ok,
        "the other tenant's edit is not this tenant's: {out}{err}"
    );
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify", "--tenant", &other.tenant_id],
    );
    assert!(
        !ok && err.contains(&format!("position {others}: edited")),
        "{err}"
    );

    tamper(
        &cluster,
        &format!("UPDATE events SET actor = 'user:intruder' WHERE position = {mine}"),
    )
    .await;
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify", "--tenant", &admin.tenant_id],
    );
    assert!(
        !ok && err.contains(&format!("position {mine}: edited")),
        "{err}"
    );
    let (ok, _, err) = run_deedlog(
        &cluster.database,
        &["audit", "verify", "--tenant", "not-a-uuid"],
    );
    assert!(!ok && err.contains("is not a tenant id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_whose_leaf_was_relabelled_absent_is_still_named() {
    let (cluster, _c, _admin) = sealed_log().await;
    let at = middle(&cluster).await;
    tamper(
        &cluster,
        &format!(
            "DELETE FROM events WHERE position = {at}; \
             ALTER TABLE seal_blocks DISABLE TRIGGER USER; \
             UPDATE seal_blocks SET tenants[{at} - first_position + 1] = NULL \
             WHERE first_position <= {at} AND last_position >= {at}; \
             ALTER TABLE seal_blocks ENABLE TRIGGER USER"
        ),
    )
    .await;
    refused_at(&cluster, at, "deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exports_head_is_shown_a_prefix_of_the_later_log() {
    let (cluster, mut c, admin) = sealed_log().await;
    let db = &cluster.database;
    let dir = std::env::temp_dir();
    let head = dir.join(format!("{db}-head.json"));
    let proof = dir.join(format!("{db}-consistency.json"));
    let (head, proof) = (head.to_str().expect("path"), proof.to_str().expect("path"));
    let export = [
        "audit",
        "export",
        "--tenant",
        &admin.tenant_id,
        "--from",
        "2020-01-01",
        "--to",
        "2100-01-01",
        "--head",
        head,
    ];
    let (ok, _, err) = run_deedlog(db, &export);
    assert!(ok && err.contains("consistent with head: block"), "{err}");

    // History goes on; the older head is still part of it.
    c.create_property(&admin, apartment()).await;
    wait_sealed(&cluster).await;
    let (ok, out, err) = run_deedlog(db, &["audit", "verify"]);
    assert!(ok, "{err}");
    let key = public_key_of(&out);
    let (ok, chain, err) = run_deedlog(db, &["audit", "consistency", head]);
    assert!(ok, "{err}");
    std::fs::write(proof, &chain).expect("write the proof");
    let check = [
        "audit",
        "verify-consistency",
        proof,
        "--head",
        head,
        "--public-key",
        &key,
    ];
    let (ok, out, err) = run_deedlog(db, &check);
    assert!(ok && out.contains("is a prefix of the log"), "{out}{err}");

    // Another older head (one digit of its hash changed): neither holds.
    let mut older: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(head).expect("read")).expect("JSON");
    let hash = older["hash"].as_str().expect("hash").to_owned();
    let flipped = if hash.starts_with('0') { "1" } else { "0" };
    older["hash"] = format!("{flipped}{}", &hash[1..]).into();
    std::fs::write(head, older.to_string()).expect("write");
    let (ok, _, err) = run_deedlog(db, &check);
    assert!(!ok && err.contains("not at the older head"), "{err}");
    let (ok, _, err) = run_deedlog(db, &["audit", "consistency", head]);
    assert!(!ok && err.contains("sealed history was rewritten"), "{err}");
    let _ = (std::fs::remove_file(head), std::fs::remove_file(proof));
}
