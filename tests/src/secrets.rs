//! The credential material the log holds (password hashes, refresh-token
//! ids), read straight from the log as its owner, so a test can check that
//! no reader meant for people shows any of it.

use crate::clients::{Clients, Session, PASSWORD};
use crate::cluster::TestCluster;
use deedlog_proto::tenancy::v1 as tenancy;
use serde_json::Value;
use sqlx::Connection;

/// Fields of a credentials payload that are instants, not secrets.
const INSTANTS: [&str; 3] = ["at", "until", "expires_at"];

/// Every secret value in the payloads of the cluster's `credentials`
/// streams: each string that is not an instant. Panics unless it holds at
/// least one Argon2id hash and one token id, so a test using it cannot
/// pass vacuously.
pub async fn credential_secrets(cluster: &TestCluster) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect_with(&cluster.database_options())
        .await
        .expect("connect to the test database");
    let payloads: Vec<Value> =
        sqlx::query_scalar("SELECT payload FROM events WHERE stream_type = 'credentials'")
            .fetch_all(&mut conn)
            .await
            .expect("read the credentials events");
    let mut secrets = Vec::new();
    for payload in &payloads {
        collect(payload, None, &mut secrets);
    }
    assert!(
        secrets.iter().any(|s| s.starts_with("$argon2id$")),
        "the log holds a password hash: {payloads:?}"
    );
    assert!(
        secrets.iter().any(|s| uuid::Uuid::parse_str(s).is_ok()),
        "the log holds a token id: {payloads:?}"
    );
    secrets
}

fn collect(value: &Value, key: Option<&str>, into: &mut Vec<String>) {
    match value {
        Value::String(s) if !key.is_some_and(|k| INSTANTS.contains(&k)) => into.push(s.clone()),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect(v, Some(k.as_str()), into)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, into)),
        _ => {}
    }
}

/// Asserts that `shown` (what a reader printed or answered) contains none
/// of `secrets` and no Argon2id hash at all.
#[track_caller]
pub fn assert_shows_no_secret(what: &str, shown: &str, secrets: &[String]) {
    assert!(
        !shown.contains("$argon2id$"),
        "{what} shows a password hash: {shown}"
    );
    for secret in secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "{what} shows the secret {secret:?}: {shown}"
        );
    }
}

/// The event types [`credential_activity`] gives the admin's credentials
/// stream, each of which a reader of the history must list.
pub const ACTIVITY_EVENTS: [&str; 5] = [
    "PasswordSet",
    "LoginSucceeded",
    "RefreshTokenRotated",
    "LoginFailed",
    "RefreshTokenRevoked",
];

/// Registers a tenant and gives its admin's credentials stream one event of
/// most kinds: `PasswordSet`, `LoginSucceeded`, `RefreshTokenRotated`,
/// `LoginFailed` and `RefreshTokenRevoked`; then adds an auditor (their own
/// `PasswordSet` and `LoginSucceeded`). Returns the admin, signed in again,
/// and the auditor.
pub async fn credential_activity(clients: &mut Clients, slug: &str) -> (Session, Session) {
    let admin = clients.register(slug).await;
    let rotated = clients.rotate(&admin.refresh).await;
    clients
        .login(slug, &admin.email, "not the password")
        .await
        .expect_err("a wrong password is refused");
    clients
        .tenancy
        .logout(tenancy::LogoutRequest {
            refresh_token: rotated.refresh_token,
        })
        .await
        .expect("logout");
    let admin = clients
        .login(slug, &admin.email, PASSWORD)
        .await
        .expect("admin signs in again");
    let auditor = clients
        .colleague(&admin, tenancy::Role::Auditor, "iris")
        .await;
    (admin, auditor)
}
