//! The master key from outside (ADR 0035): `deedlog privacy
//! rotate-master-key` moves a development database to a configured key
//! without touching an event; afterwards the old key (or none) is refused
//! naming the setting. `deedlog privacy seal-legacy` records subjects whose
//! data sits in clear in events written before sealing, and forgetting such
//! a subject erases it from every read.

use crate::shutdown::deedlog;
use deedlog_communications_domain::Event as ContactEvent;
use deedlog_eventstore::{AppendRequest, ConnectOptions, EventStore, ExpectedVersion, NewEvent};
use deedlog_kernel::privacy::ERASED;
use deedlog_kernel::{CausationId, CommandId, CorrelationId, StreamId, TenantId};
use deedlog_tests::fixtures::{clara_voss, forget_contact};
use deedlog_tests::{Clients, TestCluster};
use std::time::Duration;
use uuid::Uuid;

/// Runs deedlog on `db` with `env` added; returns (success, stdout, stderr).
fn run(db: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let mut command = deedlog(db, args);
    command.envs(env.iter().copied());
    let output = command.output().expect("run deedlog");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const NEW_KEY: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const OTHER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_rewraps_the_keys_and_the_old_one_is_refused() {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let clara = c.contact_with(&admin, clara_voss()).await;
    let db = cluster.database.clone();
    let export = ["privacy", "export", &clara, "--tenant", &admin.tenant_id];
    let new = [("DEEDLOG__PRIVACY__MASTER_KEY", NEW_KEY)];

    // Before the rotation a configured key that is not the database's is refused.
    let (ok, _, err) = run(&db, &new, &export);
    assert!(!ok && err.contains("privacy.master_key"), "{err}");

    let (ok, out, err) = run(&db, &new, &["privacy", "rotate-master-key"]);
    assert!(ok, "{err}");
    assert!(out.contains("rewrapped"), "{out}");

    // The new key alone now opens every sealed field; no key, or another, is refused.
    let (ok, out, err) = run(&db, &new, &export);
    assert!(ok, "{err}");
    assert!(out.contains("Clara Voss"), "{out}");
    for (env, says) in [
        (vec![], "privacy.master_key"),
        (
            vec![("DEEDLOG__PRIVACY__MASTER_KEY", OTHER_KEY)],
            "privacy.master_key",
        ),
        (
            vec![("DEEDLOG__PRIVACY__MASTER_KEY", "c2hvcnQ=")],
            "32 bytes",
        ),
    ] {
        let (ok, out, err) = run(&db, &env, &export);
        assert!(!ok, "{env:?} should be refused: {out}");
        assert!(err.contains(says), "{env:?}: {err}");
        assert!(!out.contains("Clara Voss"), "{out}");
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_a_master_key_is_refused_naming_the_setting() {
    let cluster = TestCluster::start().await;
    let contact = Uuid::now_v7().to_string();
    let (ok, _, err) = run(
        &cluster.database,
        &[("DEEDLOG__ENVIRONMENT", "production")],
        &["privacy", "export", &contact, "--tenant", &contact],
    );
    assert!(!ok);
    assert!(
        err.contains("privacy.master_key or privacy.master_key_file is required"),
        "{err}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_plaintext_is_recorded_and_erased_from_reads_once_forgotten() {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let db = cluster.database.clone();

    // A contact written before sealing existed: its details in clear.
    let legacy = StreamId::from_uuid(Uuid::now_v7());
    let tenant = TenantId::from_uuid(admin.tenant_id.parse().expect("tenant id"));
    let name = format!("Legacy Name {}", Uuid::now_v7().simple());
    let store = EventStore::connect(
        &ConnectOptions {
            connect: cluster.database_options(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
            app_role: "deedlog_app".into(),
            reader_role: "deedlog_log_reader".into(),
        },
        Default::default(),
    )
    .await
    .expect("connect without a keyring");
    let created = ContactEvent::ContactCreated {
        name: name.clone(),
        email: Some("legacy@example.com".into()),
        phone: None,
        address: None,
    };
    let (event_type, payload) = deedlog_kernel::codec::encode(&created).expect("encode");
    let id = Uuid::now_v7();
    let appended = store
        .append(&AppendRequest {
            stream_id: legacy,
            stream_type: "contact".into(),
            expected: ExpectedVersion::NoStream,
            metadata: deedlog_kernel::CommandMetadata {
                tenant_id: tenant,
                actor: format!("user:{}", admin.user_id),
                command_id: CommandId::from_uuid(id),
                correlation_id: CorrelationId::from_uuid(id),
                causation_id: CausationId::from_uuid(id),
                occurred_at: chrono::Utc::now(),
                trace: None,
            },
            events: vec![NewEvent::new(event_type, 1, &payload).expect("event")],
            fingerprint: None,
        })
        .await
        .expect("append in clear");
    cluster.wait_for_read_models(appended.last_position()).await;

    let (ok, out, err) = run(&db, &[], &["privacy", "seal-legacy"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 subjects"), "{out}");
    let pool = sqlx::PgPool::connect_with(cluster.database_options())
        .await
        .expect("connect");
    let recorded: i64 = sqlx::query_scalar(
        "SELECT events FROM privacy_legacy WHERE tenant_id = $1 AND subject_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(legacy.as_uuid())
    .fetch_one(&pool)
    .await
    .expect("recorded");
    assert_eq!(recorded, 1);

    let forgot = c
        .communications
        .forget_contact(admin.request(forget_contact(&legacy.to_string())))
        .await
        .expect("forget a legacy contact")
        .into_inner();
    cluster.wait_for_read_models(forgot.position).await;
    let legacy_id = legacy.to_string();
    let (ok, out, err) = run(
        &db,
        &[],
        &[
            "privacy",
            "export",
            &legacy_id,
            "--tenant",
            &admin.tenant_id,
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains(ERASED) && !out.contains(&name), "{out}");
    let (ok, out, err) = run(&db, &[], &["audit", "history", &legacy_id]);
    assert!(ok, "{err}");
    assert!(!out.contains(&name), "{out}");
    let (ok, _, err) = run(&db, &[], &["reconcile", "communications"]);
    assert!(ok, "{err}");
    pool.close().await;
    cluster.stop().await;
}
