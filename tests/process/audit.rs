//! `deedlog audit`: a record's history, its state as of an instant and a
//! tenant's export, from the binary against a real log; bad input refused
//! with a message and a non-zero exit.

use crate::shutdown::run_deedlog;
use deedlog_tests::fixtures::{apartment, eur, reprice};
use deedlog_tests::secrets::{
    assert_shows_no_secret, credential_activity, credential_secrets, ACTIVITY_EVENTS,
};
use deedlog_tests::{start_connected, start_with_tenant};

/// `deedlog audit export` of `tenant` over `from`..`to`, with `extra` arguments.
fn export_args<'a>(tenant: &'a str, from: &'a str, to: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let args = [
        "audit", "export", "--tenant", tenant, "--from", from, "--to", to,
    ];
    [&args[..], extra].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_as_of_and_export_read_the_log_as_auditors_need() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let created = c.create_property(&admin, apartment()).await;
    let id = created.record_id.clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    c.properties
        .change_asking_price(admin.request(reprice(&id, eur(42_000_000))))
        .await
        .expect("reprice");
    let db = &cluster.database;

    let (ok, out, _) = run_deedlog(db, &["audit", "history", &id]);
    assert!(ok, "{out}");
    assert!(
        out.contains("PropertyCreated") && out.contains("AskingPriceChanged"),
        "{out}"
    );
    assert!(out.lines().count() >= 3, "{out}");

    let at = between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (ok, out, _) = run_deedlog(db, &["audit", "as-of", &id, &at]);
    assert!(ok, "{out}");
    let then: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(then["version"], 1, "{then}");
    assert!(then["state"].to_string().contains("45000000"), "{then}");
    assert!(!then["state"].to_string().contains("42000000"), "{then}");

    let tenant = admin.tenant_id.clone();
    // The tenant's whole history, with `extra` arguments.
    let export =
        |extra: &[&str]| run_deedlog(db, &export_args(&tenant, "2020-01-01", "2100-01-01", extra));
    let (ok, out, err) = export(&[]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(lines.iter().any(|e| e["stream_id"] == id.as_str()), "{out}");
    assert!(lines
        .windows(2)
        .all(|w| w[0]["position"].as_i64() < w[1]["position"].as_i64()));
    assert!(
        err.contains(&format!("exported {} events", lines.len())),
        "{err}"
    );
    let (ok, csv, _) = export(&["--format", "csv"]);
    assert!(ok);
    assert!(csv.starts_with("position,stream_type,stream_id,"), "{csv}");

    // Bad input: a message that says what is wrong, and a non-zero exit.
    for (args, says) in [
        (vec!["audit", "history", "42"], "is not a record id"),
        (
            vec!["audit", "history", "0192f0c4-6d7e-7c3a-9b1e-2f4a5b6c7d8e"],
            "the log has no record",
        ),
        (
            vec!["audit", "as-of", id.as_str(), "yesterday"],
            "is not an instant",
        ),
        (
            vec!["audit", "as-of", id.as_str(), "2000-01-01"],
            "the log had no record",
        ),
        (
            export_args("acme", "2020-01-01", "2021-01-01", &[]),
            "is not a tenant id",
        ),
        (
            export_args(tenant.as_str(), "2021-01-01", "2020-01-01", &[]),
            "--from must be before --to",
        ),
        (
            export_args(
                tenant.as_str(),
                "2020-01-01",
                "2021-01-01",
                &["--format", "xml"],
            ),
            "jsonl",
        ),
    ] {
        let (ok, out, err) = run_deedlog(db, &args);
        assert!(!ok, "{args:?} should fail: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_export_show_credential_events_without_hashes_or_token_ids() {
    let (cluster, mut c) = start_connected().await;
    let (admin, _auditor) = credential_activity(&mut c, "vault").await;
    let secrets = credential_secrets(&cluster).await;
    let db = &cluster.database;

    // The admin's credentials stream: every event listed with its type and
    // time, its secrets redacted.
    let (ok, out, err) = run_deedlog(db, &["audit", "history", &admin.user_id]);
    assert!(ok, "{err}");
    assert_shows_no_secret("audit history", &out, &secrets);
    assert_shows_no_secret("audit history's errors", &err, &secrets);
    assert!(out.starts_with("credentials "), "{out}");
    for t in ACTIVITY_EVENTS {
        assert!(out.contains(t), "{t} listed: {out}");
    }
    assert!(out.contains(r#"{"hash":"[redacted]"}"#), "{out}");
    assert!(out.contains(r#""expires_at":"20"#), "{out}");

    // No state of a credentials stream as of any instant.
    let (ok, out, err) = run_deedlog(db, &["audit", "as-of", &admin.user_id, "2100-01-01"]);
    assert!(!ok, "{out}");
    assert!(err.contains("credentials"), "{err}");
    assert_shows_no_secret("audit as-of", &(out + &err), &secrets);

    let export = |format: &'static str| {
        let args = export_args(
            &admin.tenant_id,
            "2020-01-01",
            "2100-01-01",
            &["--format", format],
        );
        run_deedlog(db, &args)
    };
    let (ok, jsonl, err) = export("jsonl");
    assert!(ok, "{err}");
    assert_shows_no_secret("audit export (jsonl)", &jsonl, &secrets);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let set = lines
        .iter()
        .find(|e| e["event_type"] == "PasswordSet")
        .expect("PasswordSet exported");
    assert_eq!(set["payload"], serde_json::json!({ "hash": "[redacted]" }));
    assert!(set["recorded_at"].is_string() && set["actor"].is_string());
    let login = lines
        .iter()
        .find(|e| e["event_type"] == "LoginSucceeded")
        .expect("LoginSucceeded exported");
    assert_eq!(login["payload"]["token"]["id"], "[redacted]", "{login}");
    assert!(login["payload"]["at"].is_string(), "{login}");
    let registered = lines
        .iter()
        .find(|e| e["event_type"] == "TenantRegistered")
        .expect("TenantRegistered exported");
    assert_eq!(registered["payload"]["slug"], "vault", "{registered}");

    let (ok, csv, err) = export("csv");
    assert!(ok, "{err}");
    assert_shows_no_secret("audit export (csv)", &csv, &secrets);
    assert!(
        csv.contains("PasswordSet") && csv.contains("[redacted]"),
        "{csv}"
    );
    cluster.stop().await;
}
