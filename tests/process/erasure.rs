//! The right to erasure end to end (issue 19, ADR 0035): a contact with
//! unique details and a message with a unique body is forgotten; after every
//! projection is rebuilt, `pg_dump --data-only` of the whole database holds
//! none of those strings, while another contact's data is still there and
//! exported. History still reads: `audit history`, `audit as-of` and every
//! reconciliation run clean, with the erased marker where the data was.

use crate::shutdown::run_deedlog;
use deedlog_kernel::privacy::ERASED;
use deedlog_tests::fixtures::forget_contact;
use deedlog_tests::person::person;
use deedlog_tests::{Clients, TestCluster};
use serde_json::Value;

fn pg_dump(database: &str) -> String {
    let output = std::process::Command::new("pg_dump")
        .args([
            "--data-only",
            "--host",
            "127.0.0.1",
            "--username",
            "postgres",
            database,
        ])
        .output()
        .expect("run pg_dump");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn deedlog_ok(database: &str, args: &[&str]) -> String {
    let (ok, out, err) = run_deedlog(database, args);
    assert!(ok, "deedlog {args:?} failed: {err}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_contact_leaves_no_plaintext_and_history_still_reads() {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let (forgotten, _) = person(&mut c, &admin, "Forgotten").await;
    let (kept, at) = person(&mut c, &admin, "Kept").await;
    cluster.wait_for_read_models(at).await;
    let db = cluster.database.clone();

    // Sealed from the first append: no event ever held the strings.
    let log = sqlx::PgPool::connect_with(cluster.database_options())
        .await
        .expect("connect");
    for s in forgotten.strings.iter().chain(&kept.strings) {
        let clear: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE strpos(payload::text, $1) > 0")
                .bind(s)
                .fetch_one(&log)
                .await
                .expect("search the log");
        assert_eq!(clear, 0, "{s:?} in clear in an event");
    }
    log.close().await;

    let forgot = c
        .communications
        .forget_contact(admin.request(forget_contact(&forgotten.id)))
        .await
        .expect("forget")
        .into_inner();
    cluster.wait_for_read_models(forgot.position).await;
    for projection in deedlog_projector::projections::all() {
        deedlog_ok(&db, &["rebuild", projection.name()]);
    }

    let dump = pg_dump(&db);
    for s in &forgotten.strings {
        let holding: Vec<&str> = dump.lines().filter(|l| l.contains(s.as_str())).collect();
        assert!(
            holding.is_empty(),
            "the dump still holds {s:?}: {holding:?}"
        );
    }
    for s in &kept.strings {
        assert!(
            dump.contains(s.as_str()),
            "the other contact's {s:?} is gone"
        );
    }

    // The other contact is exported whole; the forgotten one as erased.
    let export = |contact: &str| -> Value {
        let out = deedlog_ok(
            &db,
            &["privacy", "export", contact, "--tenant", &admin.tenant_id],
        );
        serde_json::from_str(&out).expect("one JSON document")
    };
    let kept_doc = export(&kept.id).to_string();
    for s in &kept.strings {
        assert!(kept_doc.contains(s.as_str()), "the export lacks {s:?}");
    }
    let forgotten_doc = export(&forgotten.id).to_string();
    assert!(forgotten_doc.contains(ERASED), "{forgotten_doc}");
    for s in &forgotten.strings {
        assert!(
            !forgotten_doc.contains(s.as_str()),
            "the export shows {s:?}"
        );
    }

    // History replays with the erased marker: the audit history, the state
    // as of now (through the log reader and through the service), and
    // every projection reconciles clean against the log.
    let history = deedlog_ok(&db, &["audit", "history", &forgotten.id]);
    assert!(
        history.contains("ContactForgotten") && history.contains(ERASED),
        "{history}"
    );
    let as_of = deedlog_ok(
        &db,
        &[
            "audit",
            "as-of",
            &forgotten.id,
            &chrono::Utc::now().to_rfc3339(),
        ],
    );
    assert!(as_of.contains(ERASED), "{as_of}");
    let state = c
        .communications
        .get_as_of(admin.request(deedlog_proto::common::v1::AsOfRequest {
            record_id: forgotten.id.clone(),
            at_unix_micros: None,
        }))
        .await
        .expect("as of")
        .into_inner();
    assert!(state.state_json.contains(ERASED), "{}", state.state_json);
    for s in &forgotten.strings {
        assert!(
            !history.contains(s.as_str())
                && !as_of.contains(s.as_str())
                && !state.state_json.contains(s.as_str()),
            "{s:?} shown"
        );
    }
    // The tenant's export of the log shows people's data opened, never an
    // envelope, and the forgotten person erased.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let export = deedlog_ok(
        &db,
        &[
            "audit",
            "export",
            "--tenant",
            &admin.tenant_id,
            "--from",
            "2000-01-01",
            "--to",
            &tomorrow,
        ],
    );
    assert!(!export.contains("$sealed"), "{export}");
    assert!(
        export.contains(kept.strings[0].as_str()) && export.contains(ERASED),
        "{export}"
    );
    for s in &forgotten.strings {
        assert!(!export.contains(s.as_str()), "the export shows {s:?}");
    }
    for projection in deedlog_projector::projections::all() {
        deedlog_ok(&db, &["reconcile", projection.name()]);
    }
    cluster.stop().await;
}
