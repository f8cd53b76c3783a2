//! Credential material is never shown to people (ADR 0022): `auditEvents`
//! lists a user's credential events with their types, times and actors,
//! but every password hash and refresh-token id reads `[redacted]`; `asOf`
//! never rebuilds a credentials stream.

use crate::World;
use deedlog_tests::secrets::{
    assert_shows_no_secret, credential_activity, credential_secrets, ACTIVITY_EVENTS,
};
use serde_json::{json, Value};

const EVENTS: &str = "query($after: String) { auditEvents(first: 100, after: $after) {
    edges { node { streamType eventType recordedAt actor payload } }
    pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn audit_events_show_that_credentials_changed_but_no_hash_or_token_id() {
    let mut w = World::start().await;
    let (admin, auditor) = credential_activity(&mut w.clients, "vault").await;
    let secrets = credential_secrets(&w.cluster).await;

    for (who, token) in [("auditor", &auditor.access), ("admin", &admin.access)] {
        let mut nodes: Vec<Value> = Vec::new();
        let mut after = Value::Null;
        loop {
            let answer = w
                .gql
                .run(Some(token), EVENTS, json!({ "after": after }))
                .await;
            assert_shows_no_secret(
                &format!("auditEvents for the {who}"),
                &answer.body.to_string(),
                &secrets,
            );
            let page = &answer.data()["auditEvents"];
            nodes.extend(
                page["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| e["node"].clone()),
            );
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let credentials: Vec<&Value> = nodes
            .iter()
            .filter(|n| n["streamType"] == "credentials")
            .collect();
        let of_type = |t: &str| -> Vec<&Value> {
            credentials
                .iter()
                .copied()
                .filter(|n| n["eventType"] == t)
                .collect()
        };
        for t in ACTIVITY_EVENTS {
            assert!(!of_type(t).is_empty(), "{who} sees a {t}: {credentials:?}");
        }
        // That a password was set, when and by whom stays visible.
        let set = of_type("PasswordSet")[0];
        assert_eq!(set["payload"], json!({ "hash": "[redacted]" }), "{set}");
        assert!(set["recordedAt"].is_string() && set["actor"].is_string());
        let login = of_type("LoginSucceeded")[0];
        assert_eq!(login["payload"]["token"]["id"], "[redacted]", "{login}");
        assert!(
            login["payload"]["at"]
                .as_str()
                .is_some_and(|at| at.starts_with("20")),
            "{login}"
        );
        assert!(
            login["payload"]["token"]["expires_at"]
                .as_str()
                .is_some_and(|at| at.starts_with("20")),
            "{login}"
        );
        let rotated = of_type("RefreshTokenRotated")[0];
        assert_eq!(rotated["payload"]["old"], "[redacted]", "{rotated}");
        assert_eq!(rotated["payload"]["new"]["id"], "[redacted]", "{rotated}");
        let revoked = of_type("RefreshTokenRevoked")[0];
        assert_eq!(
            revoked["payload"],
            json!({ "token": "[redacted]" }),
            "{revoked}"
        );
        // Other records' payloads are shown as stored.
        let registered = nodes
            .iter()
            .find(|n| n["eventType"] == "TenantRegistered")
            .expect("TenantRegistered");
        assert_eq!(registered["payload"]["slug"], "vault", "{registered}");
    }

    // A credentials stream has no state as of an instant: not found, and
    // nothing of it in the answer. The tenant's state shows no secret either.
    let as_of = "query($kind: AuditedRecord!, $id: UUID!) { asOf(kind: $kind, id: $id) { recordType state } }";
    let tenant_as_of = |id: &str| {
        let variables = json!({ "kind": "TENANT", "id": id });
        w.gql.run_as(&auditor, as_of, variables)
    };
    let credentials = tenant_as_of(&admin.user_id).await;
    credentials.assert_error("NOT_FOUND", "");
    assert_shows_no_secret(
        "asOf a credentials stream",
        &credentials.body.to_string(),
        &secrets,
    );
    let tenant = tenant_as_of(&admin.tenant_id).await;
    assert_eq!(tenant.data()["asOf"]["recordType"], "tenant");
    assert_shows_no_secret("asOf the tenant", &tenant.body.to_string(), &secrets);
}
