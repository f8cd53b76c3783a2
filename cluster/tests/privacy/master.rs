//! The master key against the database: the wrong key refuses to open,
//! the retired key opens during a rotation, the development key is the
//! database's own, and rotation rewraps every live key.

use crate::support::{append_sealed, configured, new_stream, payload, TestDb};
use deedlog_kernel::privacy::ERASED;
use deedlog_privacy::{Error, MasterKey, MasterSource};
use serde_json::json;

fn contact_created(name: &str) -> serde_json::Value {
    json!({"name": name, "email": null, "phone": "+49 40 123456", "address": null})
}

#[tokio::test]
async fn another_master_key_than_the_databases_is_refused_naming_the_setting() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (old, new) = (
        MasterKey::generate().expect("key"),
        MasterKey::generate().expect("key"),
    );
    let first = db.keyring(configured(&old, &[])).await.expect("registers");
    let store = db.store_with(&first);
    let contact = new_stream();
    append_sealed(
        &store,
        &first,
        tenant,
        (contact, "contact"),
        &[("ContactCreated", contact_created("Greta Berg"))],
    )
    .await;
    let registered: String = sqlx::query_scalar("SELECT master_key_id FROM privacy_master")
        .fetch_one(&db.owner)
        .await
        .expect("registered");
    assert_eq!(registered, old.id());

    let error = db
        .keyring(configured(&new, &[]))
        .await
        .expect_err("the wrong key");
    let text = error.to_string();
    match &error {
        Error::WrongMasterKey {
            setting,
            stored,
            given,
        } => {
            assert_eq!(setting, "privacy.master_key");
            assert_eq!(stored, old.id());
            assert_eq!(given, new.id());
        }
        other => panic!("not WrongMasterKey: {other:?}"),
    }
    assert!(text.contains("privacy.master_key"), "{text}");
    assert!(
        !text.contains(&new.to_base64()),
        "the key itself is never shown"
    );
    // The refusal registered nothing.
    let registered: String = sqlx::query_scalar("SELECT master_key_id FROM privacy_master")
        .fetch_one(&db.owner)
        .await
        .expect("registered");
    assert_eq!(registered, old.id());

    // With the old key retired beside it, it opens and reads old events.
    let rotating = db
        .keyring(configured(&new, &[&old]))
        .await
        .expect("the retired key is the database's");
    let events = db.read(&rotating, tenant, contact).await.expect("reads");
    assert_eq!(payload(&events[0])["name"], json!("Greta Berg"));

    // A development keyring on a database with a configured key is refused too.
    let error = db
        .keyring(MasterSource::Development)
        .await
        .expect_err("no development key here");
    assert!(
        matches!(&error, Error::Setting { setting, .. } if setting == "privacy.master_key"),
        "{error:?}"
    );
    assert!(error.to_string().contains(old.id()), "{error}");
}

#[tokio::test]
async fn two_development_keyrings_on_one_database_share_its_stored_key() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let first = db.keyring(MasterSource::Development).await.expect("opens");
    let store = db.store_with(&first);
    let contact = new_stream();
    append_sealed(
        &store,
        &first,
        tenant,
        (contact, "contact"),
        &[("ContactCreated", contact_created("Greta Berg"))],
    )
    .await;
    let (stored_id, development): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT master_key_id, development_key FROM privacy_master")
            .fetch_one(&db.owner)
            .await
            .expect("registered");
    let development = development.expect("the development key is stored");
    let development = MasterKey::from_bytes(development.try_into().expect("32 bytes"));
    assert_eq!(development.id(), stored_id);

    let second = db.keyring(MasterSource::Development).await.expect("opens");
    let events = db.read(&second, tenant, contact).await.expect("reads");
    assert_eq!(payload(&events[0])["name"], json!("Greta Berg"));
    let (again, _): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT master_key_id, development_key FROM privacy_master")
            .fetch_one(&db.owner)
            .await
            .expect("registered");
    assert_eq!(again, stored_id, "the second keyring kept the first's key");

    // The stored key is the one in use: configured, it opens too; another is refused.
    let configured_dev = db
        .keyring(configured(&development, &[]))
        .await
        .expect("the development key, configured");
    let events = db
        .read(&configured_dev, tenant, contact)
        .await
        .expect("reads");
    assert_eq!(payload(&events[0])["name"], json!("Greta Berg"));
    let other = MasterKey::generate().expect("key");
    assert!(matches!(
        db.keyring(configured(&other, &[])).await,
        Err(Error::WrongMasterKey { .. })
    ));
}

#[tokio::test]
async fn rotation_rewraps_every_live_key_and_destroyed_keys_stay_destroyed() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (old, new) = (
        MasterKey::generate().expect("key"),
        MasterKey::generate().expect("key"),
    );
    let before = db.keyring(configured(&old, &[])).await.expect("registers");
    let store = db.store_with(&before);
    let (kept, gone, third) = (new_stream(), new_stream(), new_stream());
    for (stream, name) in [
        (kept, "Greta Berg"),
        (gone, "Olaf Nord"),
        (third, "Ida Süd"),
    ] {
        append_sealed(
            &store,
            &before,
            tenant,
            (stream, "contact"),
            &[("ContactCreated", contact_created(name))],
        )
        .await;
    }
    append_sealed(
        &store,
        &before,
        tenant,
        (gone, "contact"),
        &[("ContactForgotten", json!({}))],
    )
    .await;
    let (gone_key, ..) = db.key_row(tenant, gone.as_uuid()).await.expect("row");

    // A process that started with the old key alone and has cached nothing.
    let stale = db.keyring(configured(&old, &[])).await.expect("opens");

    let rewrapped = before
        .rotate_master_key(&db.owner, &new)
        .await
        .expect("rotates");
    assert_eq!(rewrapped, 2, "the two live keys");
    let registered: (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT master_key_id, development_key FROM privacy_master")
            .fetch_one(&db.owner)
            .await
            .expect("registered");
    assert_eq!(registered, (new.id().to_owned(), None));
    let masters: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT DISTINCT master_key_id FROM privacy_keys WHERE destroyed_at IS NULL",
    )
    .fetch_all(&db.owner)
    .await
    .expect("masters");
    assert_eq!(masters, vec![(Some(new.id().to_owned()),)]);
    let (key_id, master, wrapped_null, destroyed) =
        db.key_row(tenant, gone.as_uuid()).await.expect("row");
    assert_eq!(
        (key_id, master, wrapped_null, destroyed),
        (gone_key, None, true, true),
        "the destroyed key stays destroyed"
    );

    // Only the new key: it opens and reads the old events.
    let after = db.keyring(configured(&new, &[])).await.expect("opens");
    let events = db.read(&after, tenant, kept).await.expect("reads");
    assert_eq!(payload(&events[0])["name"], json!("Greta Berg"));
    assert_eq!(payload(&events[0])["phone"], json!("+49 40 123456"));
    let events = db.read(&after, tenant, third).await.expect("reads");
    assert_eq!(payload(&events[0])["name"], json!("Ida Süd"));
    let events = db.read(&after, tenant, gone).await.expect("reads");
    assert_eq!(payload(&events[0])["name"], json!(ERASED));
    // And new keys are wrapped under it.
    let fresh = new_stream();
    append_sealed(
        &db.store_with(&after),
        &after,
        tenant,
        (fresh, "contact"),
        &[("ContactCreated", contact_created("Neu"))],
    )
    .await;
    let (_, master, ..) = db.key_row(tenant, fresh.as_uuid()).await.expect("row");
    assert_eq!(master.as_deref(), Some(new.id()));

    // The stale process cannot open the rewrapped keys: its reads fail,
    // naming the event, the field and the master key it lacks.
    let error = db
        .read(&stale, tenant, kept)
        .await
        .expect_err("the old key no longer unwraps");
    match &error {
        deedlog_eventstore::Error::Privacy(Error::Damaged { reason, .. }) => {
            assert!(reason.contains(new.id()), "{reason}");
            assert!(reason.contains("does not hold"), "{reason}");
        }
        other => panic!("not Damaged: {other:?}"),
    }

    // The old key alone is refused now.
    assert!(matches!(
        db.keyring(configured(&old, &[])).await,
        Err(Error::WrongMasterKey { .. })
    ));
}
