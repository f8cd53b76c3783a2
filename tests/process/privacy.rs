//! `deedlog privacy export`: the right-of-access document from the binary,
//! the same as the gateway's `contactExport`; bad input refused with a
//! message and a non-zero exit.

use crate::shutdown::run_deedlog;
use deedlog_cluster::Component;
use deedlog_tests::contact_export::{
    assert_holds_history, subject_with_history, without_time, CONTACT_EXPORT,
};
use deedlog_tests::{Clients, Gql, TestCluster};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_export_prints_the_document_the_gateway_gives() {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let subject = subject_with_history(&cluster, &mut c, &admin).await;
    let gql = Gql::new(&cluster.url(Component::Gateway));
    let from_gateway = gql
        .run_as(&admin, CONTACT_EXPORT, json!({"c": subject.contact_id}))
        .await
        .data()["contactExport"]
        .clone();
    let db = &cluster.database;
    let export = [
        "privacy",
        "export",
        &subject.contact_id,
        "--tenant",
        &admin.tenant_id,
    ];

    let (ok, out, err) = run_deedlog(db, &export);
    assert!(ok, "{err}");
    let printed: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_holds_history(&printed, &subject, &admin);
    assert_eq!(without_time(&printed), without_time(&from_gateway));

    // --out writes the same document to a file, nothing to standard output.
    let file = std::env::temp_dir().join(format!("export-{}.json", subject.contact_id));
    let path = file.to_str().expect("a UTF-8 path");
    let (ok, out, err) = run_deedlog(db, &[&export[..], &["--out", path]].concat());
    assert!(ok, "{err}");
    assert!(out.is_empty(), "{out}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the file")).expect("JSON");
    let _ = std::fs::remove_file(&file);
    assert_eq!(without_time(&written), without_time(&printed));

    // Another tenant holds no such contact: refused, nothing printed.
    let other = c.register("voss").await;
    let other_tenant = [
        "privacy",
        "export",
        &subject.contact_id,
        "--tenant",
        &other.tenant_id,
    ];
    for (args, says) in [
        (other_tenant.to_vec(), "has no contact"),
        (
            vec!["privacy", "export", "42", "--tenant", &admin.tenant_id],
            "is not a contact id",
        ),
        (
            vec!["privacy", "export", &subject.contact_id, "--tenant", "acme"],
            "is not a tenant id",
        ),
        (vec!["privacy", "export", &subject.contact_id], "--tenant"),
    ] {
        let (ok, out, err) = run_deedlog(db, &args);
        assert!(!ok, "{args:?} should fail: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    cluster.stop().await;
}
