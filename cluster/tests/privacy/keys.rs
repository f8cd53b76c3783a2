//! Sealing and opening with the key table: one key per subject, stored
//! text without plaintext, and the key table closed to direct access.

use crate::support::{key_id_of, Held, TestDb};
use deedlog_privacy::MasterSource;
use serde_json::json;
use uuid::Uuid;

fn contact_created() -> serde_json::Value {
    json!({
        "name": "Ada Lovelace",
        "email": "ada@analytical.example",
        "phone": "+44 20 7946 0001",
        "address": {"street": "St James's Square 12", "postal_code": "SW1Y", "city": "London", "country": "GB"},
    })
}

#[tokio::test]
async fn a_sealed_payload_holds_no_plaintext_and_opens_back_through_open_events() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let contact = Uuid::now_v7();
    let plain = contact_created();
    let mut payload = plain.clone();
    keyring
        .seal(tenant.as_uuid(), contact, "ContactCreated", &mut payload)
        .await
        .expect("seals");
    let text = payload.to_string();
    for secret in [
        "Ada Lovelace",
        "ada@analytical.example",
        "+44 20 7946 0001",
        "St James's Square",
        "London",
    ] {
        assert!(!text.contains(secret), "{secret} is in {text}");
    }
    assert_ne!(payload, plain);

    // An event type without personal fields is left as it is.
    let mut other = json!({"source": "web form", "channel": "email"});
    keyring
        .seal(tenant.as_uuid(), contact, "Unsubscribed", &mut other)
        .await
        .expect("no-op");
    assert_eq!(other, json!({"source": "web form", "channel": "email"}));

    let held = |payload: &serde_json::Value, event_type: &str, position| Held {
        tenant: tenant.as_uuid(),
        stream: contact,
        position,
        event_type: event_type.to_owned(),
        payload: payload.to_string(),
    };
    let mut events = vec![
        held(&payload, "ContactCreated", 1),
        held(&other, "Unsubscribed", 2),
    ];
    keyring.open_events(&mut events).await.expect("opens");
    let opened: serde_json::Value = serde_json::from_str(&events[0].payload).expect("JSON");
    assert_eq!(opened, plain);
    assert_eq!(events[1].payload, other.to_string());

    // A keyring with an empty cache opens it from the key table too.
    let fresh = db.keyring(MasterSource::Development).await.expect("opens");
    let mut again = vec![held(&payload, "ContactCreated", 1)];
    fresh.open_events(&mut again).await.expect("opens");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again[0].payload).expect("JSON"),
        plain
    );

    // Another tenant does not get the key: the sealed field names a key
    // its key table does not hold.
    let stranger = db.tenant().await;
    let mut elsewhere = vec![Held {
        tenant: stranger.as_uuid(),
        ..held(&payload, "ContactCreated", 3)
    }];
    let error = fresh
        .open_events(&mut elsewhere)
        .await
        .expect_err("another tenant's key");
    assert!(
        matches!(&error, deedlog_privacy::Error::Damaged { position: 3, path, reason, .. }
            if ["name", "email", "phone", "address"].contains(&path.as_str())
                && reason.contains("key table does not hold")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_subject_gets_one_key_and_another_subject_another() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let fresh = db.keyring(MasterSource::Development).await.expect("opens");
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let sealed = |keyring: deedlog_privacy::Keyring, subject: Uuid| async move {
        let mut payload = contact_created();
        keyring
            .seal(tenant.as_uuid(), subject, "ContactCreated", &mut payload)
            .await
            .expect("seals");
        payload
    };
    let first = key_id_of(&sealed(keyring.clone(), ada).await, "name");
    let second = key_id_of(&sealed(keyring.clone(), ada).await, "email");
    let from_another_cache = key_id_of(&sealed(fresh.clone(), ada).await, "name");
    let other = key_id_of(&sealed(keyring.clone(), bob).await, "name");
    assert_eq!(first, second);
    assert_eq!(first, from_another_cache);
    assert_ne!(first, other);
    let (stored, ..) = db.key_row(tenant, ada).await.expect("ada's row");
    assert_eq!(stored, first);
    let (stored, ..) = db.key_row(tenant, bob).await.expect("bob's row");
    assert_eq!(stored, other);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM privacy_keys")
        .fetch_one(&db.owner)
        .await
        .expect("count");
    assert_eq!(rows, 2, "one row per subject");
}

#[tokio::test]
async fn the_application_and_the_reader_reach_the_key_table_only_through_its_functions() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let subject = Uuid::now_v7();
    let mut payload = contact_created();
    keyring
        .seal(tenant.as_uuid(), subject, "ContactCreated", &mut payload)
        .await
        .expect("seals");
    let key_id = key_id_of(&payload, "name");
    for role in ["deedlog_app", "deedlog_log_reader"] {
        let mut conn = db.connection_as(role).await;
        for sql in [
            "SELECT * FROM privacy_keys",
            "UPDATE privacy_keys SET wrapped = NULL, master_key_id = NULL, destroyed_at = now()",
            "DELETE FROM privacy_keys",
            "INSERT INTO privacy_keys (key_id, tenant_id, subject_id) VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid())",
            "SELECT * FROM privacy_master",
            "UPDATE privacy_master SET master_key_id = 'x'",
        ] {
            let error = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect_err(&format!("{role}: {sql}"));
            assert!(
                error.to_string().contains("permission denied"),
                "{role}: {sql}: {error}"
            );
        }
        // The functions answer, within the tenant asked for.
        let found: Vec<(Uuid,)> = sqlx::query_as("SELECT key_id FROM privacy_keys_of($1, $2)")
            .bind(vec![tenant.as_uuid()])
            .bind(vec![key_id])
            .fetch_all(&mut conn)
            .await
            .expect("privacy_keys_of");
        assert_eq!(found, vec![(key_id,)], "{role}");
        let elsewhere: Vec<(Uuid,)> = sqlx::query_as("SELECT key_id FROM privacy_keys_of($1, $2)")
            .bind(vec![Uuid::now_v7()])
            .bind(vec![key_id])
            .fetch_all(&mut conn)
            .await
            .expect("privacy_keys_of");
        assert!(elsewhere.is_empty(), "{role}: another tenant's key");
    }
    let (_, master, wrapped_null, destroyed) = db.key_row(tenant, subject).await.expect("row");
    assert!(master.is_some() && !wrapped_null && !destroyed, "untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrings_racing_on_a_fresh_database_agree_on_the_master_and_on_each_subjects_key() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    // Development keyrings opened at once: one development key wins, all use it.
    let opened = futures_join(
        (0..4)
            .map(|_| db.keyring(MasterSource::Development))
            .collect(),
    )
    .await;
    let keyrings: Vec<_> = opened.into_iter().map(|k| k.expect("opens")).collect();
    // Every keyring creates the same subject's key at once: one key.
    let subject = Uuid::now_v7();
    let sealed = futures_join(
        keyrings
            .iter()
            .map(|keyring| async move {
                let mut payload = contact_created();
                keyring
                    .seal(tenant.as_uuid(), subject, "ContactCreated", &mut payload)
                    .await
                    .expect("seals");
                payload
            })
            .collect(),
    )
    .await;
    let ids: std::collections::BTreeSet<Uuid> =
        sealed.iter().map(|p| key_id_of(p, "name")).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    // And each keyring opens what every other sealed.
    for keyring in &keyrings {
        let mut events: Vec<Held> = sealed
            .iter()
            .enumerate()
            .map(|(i, payload)| Held {
                tenant: tenant.as_uuid(),
                stream: subject,
                position: i as u64 + 1,
                event_type: "ContactCreated".to_owned(),
                payload: payload.to_string(),
            })
            .collect();
        keyring.open_events(&mut events).await.expect("opens");
        for event in events {
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&event.payload).expect("JSON"),
                contact_created()
            );
        }
    }
}

/// Polls the futures together in one task, so their queries run at once
/// on separate connections (spawned tasks would need 'static futures).
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn blind_indexes_match_within_a_tenant_and_label_and_survive_a_new_keyring() {
    let db = TestDb::new().await;
    let (berg, other) = (db.tenant().await.as_uuid(), db.tenant().await.as_uuid());
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let email = "ada@analytical.example";
    let hash = keyring
        .blind_index(berg, "contact.email", email)
        .await
        .expect("hashes");
    assert_eq!(hash.len(), 64, "{hash}");
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    // Hex digits include a and d, so "ada" may occur by chance (it did):
    // what must not occur is the address itself, in any spelling.
    let in_hex: String = email.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        !hash.contains(&in_hex[..16]) && !hash.contains("@"),
        "{hash}"
    );

    // What a projector computes in a batch is what a search computes.
    let keys = keyring.index_keys([berg, other]).await.expect("fetches");
    assert_eq!(
        keys.blind_index(berg, "contact.email", email),
        Some(hash.clone())
    );
    // Another tenant, another label or another value: another hash.
    let elsewhere = keys
        .blind_index(other, "contact.email", email)
        .expect("hashes");
    assert_ne!(elsewhere, hash);
    assert_ne!(
        keys.blind_index(berg, "contact.phone", email)
            .expect("hashes"),
        hash
    );
    assert_ne!(
        keys.blind_index(berg, "contact.email", "ada@other.example")
            .expect("hashes"),
        hash
    );
    assert_eq!(
        keys.blind_index(Uuid::now_v7(), "contact.email", email),
        None,
        "not fetched"
    );

    // A keyring opened afresh (a restart, a rebuild elsewhere) finds the same
    // tenant key, so the stored indexes still match.
    let again = db.keyring(MasterSource::Development).await.expect("opens");
    assert_eq!(
        again
            .blind_index(berg, "contact.email", email)
            .await
            .expect("hashes"),
        hash
    );
}
