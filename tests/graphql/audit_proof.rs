//! `auditProof` (ADR 0037): an auditor of a tenant gets the inclusion proof
//! of one of its events, which checks offline with the sealing key's public
//! half and fails once one byte of the event changes; another tenant's
//! position is NOT_FOUND, other roles are FORBIDDEN, and a user's
//! credentials event is never shown.

use crate::World;
use deedlog_proto::tenancy::v1::Role;
use deedlog_seal::proof::{self, Proof};
use serde_json::{json, Value};
use std::time::Duration;

const PROOF: &str = "query($p: Int!) { auditProof(position: $p) }";

/// The proof of `position`, once the sealer has sealed it.
async fn sealed_proof(w: &World, user: &deedlog_tests::Session, position: i64) -> Value {
    for _ in 0..100 {
        let answer = w.gql.run_as(user, PROOF, json!({"p": position})).await;
        if answer.code() == Some("UNAVAILABLE") {
            assert_eq!(
                answer.body["errors"][0]["extensions"]["reason"], "NOT_SEALED",
                "{}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        return answer.data()["auditProof"].clone();
    }
    panic!("position {position} was not sealed in time");
}

/// The position of the tenant's first event of `event_type`.
async fn position_of(w: &World, user: &deedlog_tests::Session, event_type: &str) -> i64 {
    let answer = w
        .gql
        .run_as(
            user,
            "query($t: String) { auditEvents(filter: {eventType: $t}, first: 1) { edges { node { position } } } }",
            json!({"t": event_type}),
        )
        .await;
    let position = &answer.data()["auditEvents"]["edges"][0]["node"]["position"];
    position
        .as_str()
        .and_then(|p| p.parse().ok())
        .or_else(|| position.as_i64())
        .unwrap_or_else(|| panic!("no {event_type} in {}", answer.body))
}

#[tokio::test]
async fn an_auditor_gets_a_proof_that_checks_offline_and_fails_once_changed() {
    let (mut w, admin) = World::with_tenant("berg").await;
    let auditor = w.colleague(&admin, Role::Auditor, "aud").await;
    let agent = w.colleague(&admin, Role::Agent, "ben").await;
    let other = w.clients.register("other").await;
    w.property_id(&admin).await;
    let created = position_of(&w, &admin, "PropertyCreated").await;

    let document = sealed_proof(&w, &auditor, created).await;
    let proof: Proof = serde_json::from_value(document.clone()).expect("a proof document");
    assert_eq!(proof.format, proof::FORMAT);
    assert_eq!(proof.event.position as i64, created);
    assert_eq!(proof.event.event_type, "PropertyCreated");
    let pool = sqlx::PgPool::connect_with(w.cluster.database_options())
        .await
        .expect("pool");
    let key = deedlog_cluster::sealing::key(&w.cluster.settings, &pool)
        .await
        .expect("key")
        .public();
    proof::check(&proof, &key).expect("the proof holds");

    // One byte of the event changed: the proof fails, naming the step.
    let mut changed = proof.clone();
    changed.event.payload = changed.event.payload.replacen("Berlin", "Berlim", 1);
    assert_ne!(
        changed.event.payload, proof.event.payload,
        "the payload names the city"
    );
    let error = proof::check(&changed, &key).expect_err("changed");
    assert!(error.contains("is not the one sealed"), "{error}");

    // Another tenant's position is not theirs to see; other roles may not ask.
    w.gql
        .refused_as(&other, PROOF, json!({"p": created}), "NOT_FOUND", "")
        .await;
    w.gql
        .refused_as(&agent, PROOF, json!({"p": created}), "FORBIDDEN", "")
        .await;
    w.gql
        .refused_as(
            &admin,
            PROOF,
            json!({"p": 0}),
            "BAD_USER_INPUT",
            "not a log position",
        )
        .await;
    // A user's credentials event (the admin's password) is never shown.
    let credentials = position_of(&w, &admin, "PasswordSet").await;
    w.gql
        .refused_as(
            &admin,
            PROOF,
            json!({"p": credentials}),
            "BAD_USER_INPUT",
            "never shown",
        )
        .await;
}
