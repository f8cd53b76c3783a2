//! The forgetting trigger through the event store: appending a forgetting
//! event destroys its subject's key in the same transaction, and every
//! keyring reads the subject's fields erased from then on. And damage: a
//! changed ciphertext is reported, with its position and field.

use crate::support::{append_sealed, new_stream, payload, TestDb};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use deedlog_kernel::privacy::ERASED;
use deedlog_kernel::StreamId;
use deedlog_privacy::MasterSource;
use serde_json::{json, Value};
use uuid::Uuid;

fn contact_created(name: &str) -> Value {
    json!({
        "name": name,
        "email": format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        "phone": null,
        "address": {"street": "Hafenstraße 3", "postal_code": "20459", "city": "Hamburg", "country": "DE"},
    })
}

#[tokio::test]
async fn contact_forgotten_destroys_the_contacts_key_and_every_keyring_reads_it_erased() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let writer = db.keyring(MasterSource::Development).await.expect("opens");
    let store = db.store_with(&writer);
    let contact = new_stream();
    let other = new_stream();
    append_sealed(
        &store,
        &writer,
        tenant,
        (contact, "contact"),
        &[("ContactCreated", contact_created("Greta Berg"))],
    )
    .await;
    append_sealed(
        &store,
        &writer,
        tenant,
        (other, "contact"),
        &[("ContactCreated", contact_created("Olaf Nord"))],
    )
    .await;
    // A reader whose cache holds the contact's key before the forgetting.
    let cached = db.keyring(MasterSource::Development).await.expect("opens");
    let before = db.read(&cached, tenant, contact).await.expect("reads");
    assert_eq!(payload(&before[0])["name"], json!("Greta Berg"));
    let (_, master, wrapped_null, destroyed) =
        db.key_row(tenant, contact.as_uuid()).await.expect("row");
    assert!(master.is_some() && !wrapped_null && !destroyed);

    let forgotten = append_sealed(
        &store,
        &writer,
        tenant,
        (contact, "contact"),
        &[("ContactForgotten", json!({}))],
    )
    .await;
    assert_eq!(forgotten.positions.len(), 1);
    // The writer dropped the key it had cached when it sealed the
    // forgetting event: it refuses to seal for the contact again, before
    // any read could have told it.
    let mut late = contact_created("Greta Berg");
    let error = writer
        .seal(
            tenant.as_uuid(),
            contact.as_uuid(),
            "ContactUpdated",
            &mut late,
        )
        .await
        .expect_err("forgotten");
    assert!(
        matches!(&error, deedlog_privacy::Error::Seal { reason, .. } if reason.contains("forgotten")),
        "{error:?}"
    );

    let (_, master, wrapped_null, destroyed) =
        db.key_row(tenant, contact.as_uuid()).await.expect("row");
    assert_eq!(master, None);
    assert!(wrapped_null, "the wrapped key is gone");
    assert!(destroyed, "destroyed_at is set");
    let (_, master, wrapped_null, destroyed) =
        db.key_row(tenant, other.as_uuid()).await.expect("row");
    assert!(
        master.is_some() && !wrapped_null && !destroyed,
        "another contact's key stays"
    );

    let erased = |events: &[deedlog_eventstore::RecordedEvent]| {
        let created = payload(&events[0]);
        assert_eq!(events[0].event_type, "ContactCreated");
        assert_eq!(created["name"], json!(ERASED), "{created}");
        assert_eq!(created["email"], json!(ERASED), "{created}");
        assert_eq!(created["phone"], Value::Null, "{created}");
        assert_eq!(created["address"], Value::Null, "{created}");
        assert_eq!(events[1].event_type, "ContactForgotten");
    };
    // The writer, which dropped the key when it sealed the forgetting event.
    erased(&db.read(&writer, tenant, contact).await.expect("reads"));
    // A keyring with a fresh cache, on the same database.
    let fresh = db.keyring(MasterSource::Development).await.expect("opens");
    erased(&db.read(&fresh, tenant, contact).await.expect("reads"));
    // The keyring that had the key cached reads the forgetting event in
    // the same batch, and drops the key before opening.
    erased(&db.read(&cached, tenant, contact).await.expect("reads"));
    // And reads on erased, now that "destroyed" is what it caches.
    erased(&db.read(&cached, tenant, contact).await.expect("reads"));
    // The log reader (projectors, auditors) on its own role reads erased
    // too; as stored, the payload holds the envelope and no plaintext.
    let reader = deedlog_eventstore::LogReader::connect(
        &db.connect_options(2),
        std::sync::Arc::new(deedlog_eventstore::Upcasters::new()),
    )
    .await
    .expect("connect the reader");
    let reader = reader
        .clone()
        .with_keyring(fresh.on_pool(reader.pool().clone()));
    erased(
        &reader
            .read_stream(contact, deedlog_eventstore::StreamQuery::ALL)
            .await
            .expect("reads"),
    );
    let stored = reader
        .as_stored()
        .read_stream(contact, deedlog_eventstore::StreamQuery::ALL)
        .await
        .expect("reads");
    assert!(
        stored[0].payload.contains("\"$sealed\""),
        "{}",
        stored[0].payload
    );
    assert!(
        !stored[0].payload.contains("Greta"),
        "{}",
        stored[0].payload
    );
    assert!(!stored[0].payload.contains(ERASED), "{}", stored[0].payload);
    // The other contact still reads in full.
    let kept = db.read(&fresh, tenant, other).await.expect("reads");
    assert_eq!(payload(&kept[0])["name"], json!("Olaf Nord"));
    assert_eq!(payload(&kept[0])["address"]["city"], json!("Hamburg"));

    // Nothing seals for a forgotten contact again.
    let mut late = contact_created("Greta Berg");
    let error = fresh
        .seal(
            tenant.as_uuid(),
            contact.as_uuid(),
            "ContactUpdated",
            &mut late,
        )
        .await
        .expect_err("forgotten");
    assert!(
        matches!(error, deedlog_privacy::Error::Seal { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn user_forgotten_destroys_the_named_users_key_and_not_the_tenants_other_users() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let store = db.store_with(&keyring);
    let stream = StreamId::from_uuid(tenant.as_uuid());
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let invited = |id: Uuid, name: &str| {
        json!({
            "user": {"id": id, "email": format!("{name}@berg.example"), "display_name": name},
            "role": "agent",
        })
    };
    append_sealed(
        &store,
        &keyring,
        tenant,
        (stream, "tenant"),
        &[
            ("UserInvited", invited(ada, "ada")),
            ("UserInvited", invited(bob, "bob")),
        ],
    )
    .await;
    let reader = db.keyring(MasterSource::Development).await.expect("opens");
    let before = db.read(&reader, tenant, stream).await.expect("reads");
    assert_eq!(
        payload(&before[0])["user"]["email"],
        json!("ada@berg.example")
    );

    append_sealed(
        &store,
        &keyring,
        tenant,
        (stream, "tenant"),
        &[("UserForgotten", json!({"user": ada}))],
    )
    .await;
    let (_, _, wrapped_null, destroyed) = db.key_row(tenant, ada).await.expect("ada's row");
    assert!(wrapped_null && destroyed, "ada's key is destroyed");
    let (_, master, wrapped_null, destroyed) = db.key_row(tenant, bob).await.expect("bob's row");
    assert!(
        master.is_some() && !wrapped_null && !destroyed,
        "bob's key stays"
    );
    let tenant_row = db.key_row(tenant, tenant.as_uuid()).await;
    assert!(
        tenant_row.is_none_or(|(_, _, wrapped_null, destroyed)| !wrapped_null && !destroyed),
        "the tenant's own key is not touched"
    );

    for keyring in [&reader, &keyring] {
        let events = db.read(keyring, tenant, stream).await.expect("reads");
        let (ada_event, bob_event) = (payload(&events[0]), payload(&events[1]));
        assert_eq!(ada_event["user"]["email"], json!(ERASED), "{ada_event}");
        assert_eq!(ada_event["user"]["display_name"], json!(ERASED));
        assert_eq!(ada_event["user"]["id"], json!(ada), "ids are not personal");
        assert_eq!(bob_event["user"]["email"], json!("bob@berg.example"));
        assert_eq!(bob_event["user"]["display_name"], json!("bob"));
        assert_eq!(payload(&events[2]), json!({"user": ada}));
    }
}

#[tokio::test]
async fn a_forgetting_event_type_on_another_stream_type_destroys_nothing() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let store = db.store_with(&keyring);
    let contact = new_stream();
    append_sealed(
        &store,
        &keyring,
        tenant,
        (contact, "contact"),
        &[("ContactCreated", contact_created("Greta Berg"))],
    )
    .await;
    // The trigger's stream types bound it: the same event type on a
    // property stream does not forget the contact.
    let property =
        deedlog_eventstore::NewEvent::new("ContactForgotten", 1, &json!({})).expect("serialises");
    let elsewhere = new_stream();
    store
        .append(&deedlog_eventstore::AppendRequest {
            fingerprint: None,
            stream_id: elsewhere,
            stream_type: "property".to_owned(),
            expected: deedlog_eventstore::ExpectedVersion::NoStream,
            metadata: crate::support::metadata(tenant),
            events: vec![property],
        })
        .await
        .expect("append");
    let (_, _, wrapped_null, destroyed) = db.key_row(tenant, contact.as_uuid()).await.expect("row");
    assert!(!wrapped_null && !destroyed);
    assert!(db.key_row(tenant, elsewhere.as_uuid()).await.is_none());
}

#[tokio::test]
async fn a_changed_ciphertext_is_reported_with_its_position_and_field_not_a_panic() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let keyring = db.keyring(MasterSource::Development).await.expect("opens");
    let store = db.store_with(&keyring);
    let contact = new_stream();
    let outcome = append_sealed(
        &store,
        &keyring,
        tenant,
        (contact, "contact"),
        &[
            ("ContactCreated", contact_created("Greta Berg")),
            ("ContactUpdated", contact_created("Greta Berg-Nord")),
        ],
    )
    .await;
    let position = outcome.positions[1];
    let mut stored: Value = serde_json::from_str(&db.stored_payload(position).await).expect("JSON");
    let c = stored["email"]["$sealed"]["c"]
        .as_str()
        .expect("a sealed email")
        .to_owned();
    let mut bytes = STANDARD.decode(c).expect("base64");
    bytes[3] ^= 0x40;
    stored["email"]["$sealed"]["c"] = json!(STANDARD.encode(bytes));

    let mut tx = db.owner.begin().await.expect("begin");
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_are_immutable")
        .execute(&mut *tx)
        .await
        .expect("disable the trigger");
    let changed = sqlx::query("UPDATE events SET payload = $1::json WHERE position = $2")
        .bind(stored.to_string())
        .bind(i64::try_from(position).expect("position"))
        .execute(&mut *tx)
        .await
        .expect("change the payload");
    assert_eq!(changed.rows_affected(), 1);
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_are_immutable")
        .execute(&mut *tx)
        .await
        .expect("enable the trigger");
    tx.commit().await.expect("commit");

    for reader in [
        keyring.clone(),
        db.keyring(MasterSource::Development).await.expect("opens"),
    ] {
        let error = db
            .read(&reader, tenant, contact)
            .await
            .expect_err("a damaged field");
        let text = error.to_string();
        match error {
            deedlog_eventstore::Error::Privacy(deedlog_privacy::Error::Damaged {
                position: at,
                event_type,
                path,
                ..
            }) => {
                assert_eq!(at, position);
                assert_eq!(event_type, "ContactUpdated");
                assert_eq!(path, "email");
            }
            other => panic!("not Damaged: {other:?}"),
        }
        assert!(text.contains(&format!("position {position}")), "{text}");
        assert!(text.contains("`email`"), "{text}");
    }
}
