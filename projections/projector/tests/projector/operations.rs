//! What operators run: dead letters (replay, skip, stop policy), rebuild
//! and reconciliation; and the invariant that a rebuild equals the live
//! model whatever the history and the batch sizes.

use crate::faults::Faulty;
use crate::support::*;
use deedlog_projector::projections::properties::Properties;
use deedlog_projector::reconcile::{reconcile, DifferenceKind};
use deedlog_projector::{dead_letter, rebuild, Error, FailurePolicy, Projection, Step};
use proptest::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A reconciliation run as stored: its status and its report, if any.
async fn stored_run(db: &TestDb, run_id: i64) -> (String, Option<serde_json::Value>) {
    sqlx::query_as("SELECT status, report FROM deedlog_read.reconciliation_runs WHERE id = $1")
        .bind(run_id)
        .fetch_one(&db.pool)
        .await
        .expect("run")
}

#[tokio::test]
async fn a_poison_event_is_dead_lettered_the_rest_go_on_and_replay_applies_it_after_a_fix() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (a, b) = (new_stream(), new_stream());
    db.append(tenant, a, &[created("Köln", 30_000_000)]).await;
    let mut price = 30_000_000;
    let poison = db.append(tenant, a, &[change(0, &mut price)]).await;
    db.append(tenant, b, &[created("Bonn", 20_000_000)]).await;
    // An event no code can read: a dead letter that stays.
    append_raw(
        &db,
        tenant,
        b,
        2,
        "AskingPriceChanged",
        r#"{"to": "a lot"}"#,
    )
    .await;

    let faulty = Arc::new(Faulty::new(Arc::new(Properties)));
    faulty.poison.store(poison, Ordering::SeqCst);
    let mut projector = db.projector(faulty.clone(), 100).await;
    catch_up(&mut projector).await;
    assert_eq!(
        row_count(&db, "rm_properties.properties").await,
        2,
        "the rest went on"
    );
    let letters = dead_letter::list(&db.pool, Some("properties"), false)
        .await
        .expect("list");
    assert_eq!(letters.len(), 2);
    let bug = letters
        .iter()
        .find(|l| l.position == poison)
        .expect("the poisoned one");
    assert!(bug.error.contains("simulated bug"), "{}", bug.error);
    let unreadable = letters
        .iter()
        .find(|l| l.position != poison)
        .expect("the unreadable one");
    assert!(
        unreadable.error.contains("AskingPriceChanged"),
        "{}",
        unreadable.error
    );
    let asking = || {
        sqlx::query_scalar::<_, i64>(
            "SELECT asking_price_minor FROM rm_properties.properties WHERE property_id = $1",
        )
        .bind(a.as_uuid())
        .fetch_one(&db.pool)
    };
    assert_eq!(
        asking().await.expect("price"),
        30_000_000,
        "not applied yet"
    );

    // Still broken: the replay fails and changes nothing.
    let failed = dead_letter::replay(&db.pool, &db.reader, faulty.as_ref(), bug.id).await;
    assert!(matches!(failed, Err(Error::Apply(_))), "{failed:?}");
    assert_eq!(
        dead_letter::list(&db.pool, None, false)
            .await
            .expect("list")
            .len(),
        2
    );
    // Fixed: the replay applies it once.
    faulty.fixed.store(true, Ordering::SeqCst);
    let replayed = dead_letter::replay(&db.pool, &db.reader, faulty.as_ref(), bug.id)
        .await
        .expect("replay");
    assert_eq!(replayed.status, "replayed");
    assert_eq!(asking().await.expect("price"), 29_500_000);
    let again = dead_letter::replay(&db.pool, &db.reader, faulty.as_ref(), bug.id).await;
    assert!(
        matches!(again, Err(Error::DeadLetterResolved { .. })),
        "{again:?}"
    );
    // The unreadable one is skipped for good; unknown ids are named.
    assert_eq!(
        dead_letter::skip(&db.pool, unreadable.id)
            .await
            .expect("skip")
            .status,
        "skipped"
    );
    assert!(matches!(
        dead_letter::skip(&db.pool, 999_999).await,
        Err(Error::NoSuchDeadLetter(999_999))
    ));
    assert!(dead_letter::list(&db.pool, None, false)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        dead_letter::list(&db.pool, None, true)
            .await
            .expect("list")
            .len(),
        2
    );
}

#[tokio::test]
async fn with_the_stop_policy_a_dead_letter_halts_the_projection_until_resolved() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let stream = new_stream();
    db.append(tenant, stream, &[created("Essen", 10_000_000)])
        .await;
    let mut price = 10_000_000;
    let poison = db.append(tenant, stream, &[change(0, &mut price)]).await;
    db.append(tenant, stream, &[change(1, &mut price)]).await;
    let mut faulty = Faulty::new(Arc::new(Properties));
    faulty.policy = FailurePolicy::DeadLetterAndStop;
    faulty.poison.store(poison, Ordering::SeqCst);
    let faulty = Arc::new(faulty);
    let mut projector = db.projector(faulty.clone(), 100).await;
    let stopped = projector.project_batch().await;
    let Err(Error::Stopped {
        position,
        dead_letter: id,
        ..
    }) = stopped
    else {
        panic!("expected a stop, got {stopped:?}");
    };
    assert_eq!(position, poison);
    assert!(
        matches!(projector.project_batch().await, Err(Error::Stopped { .. })),
        "stays stopped"
    );
    let price_rows = "SELECT count(*) FROM rm_properties.price_history";
    assert_eq!(
        db.count(price_rows).await,
        1,
        "nothing after the poison was applied"
    );
    faulty.fixed.store(true, Ordering::SeqCst);
    dead_letter::replay(&db.pool, &db.reader, faulty.as_ref(), id)
        .await
        .expect("replay");
    catch_up(&mut projector).await;
    assert_eq!(db.count(price_rows).await, 3, "in order, each once");
}

#[tokio::test]
async fn a_rebuild_swaps_in_while_the_live_worker_goes_on_and_reconciliation_finds_no_drift() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    for _ in 0..20 {
        let mut price = 40_000_000;
        let mut events = vec![created("Leipzig", price)];
        events.extend((0..12).map(|n| change(n, &mut price)));
        db.append(tenant, new_stream(), &events).await;
    }
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let mut live = db.projector(projection.clone(), 50).await;
    catch_up(&mut live).await;
    let before: Vec<serde_json::Value> = schema_rows(&db, "rm_properties").await;

    let mut seen = 0;
    let position = rebuild::rebuild(&db.pool, &db.reader, projection.clone(), 37, &mut |_| {
        seen += 1
    })
    .await
    .expect("rebuild");
    assert!(seen > 0, "progress was reported");
    assert_eq!(position, live.position());
    assert!(
        schema_rows(&db, "rm_properties").await == before,
        "the rebuilt model equals the live one"
    );

    // The live worker notices the swap and goes on from the new schema.
    let mut price = 40_000_000;
    let stream = new_stream();
    let head = db
        .append(
            tenant,
            stream,
            &[created("Dresden", price), change(0, &mut price)],
        )
        .await;
    let step = live.project_batch().await.expect("step after swap");
    if step != Step::CaughtUp {
        assert!(matches!(step, Step::Progressed { .. }));
    }
    catch_up(&mut live).await;
    assert_eq!(live.position(), head);
    assert_eq!(row_count(&db, "rm_properties.properties").await, 21);
    let report = assert_reconciles_clean(&db, projection, 100).await;
    assert_eq!(report.position, head);
    let (status, _) = stored_run(&db, report.run_id).await;
    assert_eq!(status, "clean");
    let schemas = db
        .count("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm_properties%'")
        .await;
    assert_eq!(
        schemas, 1,
        "no rebuild or reconciliation schema is left behind"
    );
}

#[tokio::test]
async fn reconciliation_reports_a_changed_a_deleted_and_an_added_row() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let (a, b) = (new_stream(), new_stream());
    let mut price = 25_000_000;
    db.append(
        tenant,
        a,
        &[
            created("Bremen", price),
            change(0, &mut price),
            change(1, &mut price),
        ],
    )
    .await;
    db.append(tenant, b, &[created("Kiel", 15_000_000)]).await;
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let mut live = db.projector(projection.clone(), 100).await;
    catch_up(&mut live).await;

    sqlx::raw_sql(&format!(
        "UPDATE rm_properties.properties SET city = 'Lübeck' WHERE property_id = '{a}';
         DELETE FROM rm_properties.properties WHERE property_id = '{b}';
         INSERT INTO rm_properties.price_history VALUES ('{t}', '{a}', 999999, now(), 'user:x', NULL, 1, 'EUR');",
        a = a.as_uuid(),
        b = b.as_uuid(),
        t = tenant.as_uuid()
    ))
    .execute(&db.pool)
    .await
    .expect("tamper");
    let report = reconcile(&db.pool, &db.reader, projection, 100, &mut |_| {})
        .await
        .expect("reconcile");
    assert_eq!(
        (report.missing, report.extra, report.differing),
        (1, 1, 1),
        "{report:?}"
    );
    let differing = report
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::Differing)
        .expect("changed");
    assert_eq!(differing.table, "properties");
    assert_eq!(differing.columns.keys().collect::<Vec<_>>(), vec!["city"]);
    assert_eq!(differing.columns["city"]["live"], "Lübeck");
    assert_eq!(differing.columns["city"]["rebuilt"], "Bremen");
    let missing = report
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::Missing)
        .expect("deleted");
    assert_eq!(missing.key["property_id"], b.as_uuid().to_string());
    let extra = report
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::Extra)
        .expect("added");
    assert_eq!(
        (extra.table.as_str(), &extra.key["position"]),
        ("price_history", &serde_json::json!(999999))
    );
    let (status, stored) = stored_run(&db, report.run_id).await;
    let stored = stored.expect("a drift run keeps its report");
    assert_eq!(status, "drift");
    assert_eq!(stored.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_reconciliation_straight_after_another_finds_the_lease_free() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    db.append(tenant, new_stream(), &[created("Rostock", 30_000_000)])
        .await;
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let mut live = db.projector(projection.clone(), 100).await;
    catch_up(&mut live).await;
    // An operator's script, or the background verification after a manual
    // run: the second must not find the first one's lock still held.
    for run in 0..20 {
        let report = reconcile(&db.pool, &db.reader, projection.clone(), 100, &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert!(report.is_clean(), "run {run}: {report:?}");
    }
}

#[tokio::test]
async fn operations_on_unknown_projections_and_missing_models_are_refused_by_name() {
    let db = TestDb::new().await;
    let unknown = deedlog_projector::projections::by_name("propertys").expect_err("unknown");
    assert!(
        unknown.to_string().contains("propertys") && unknown.to_string().contains("properties"),
        "{unknown}"
    );
    let missing = reconcile(&db.pool, &db.reader, Arc::new(Properties), 100, &mut |_| {}).await;
    let message = missing.expect_err("no live model").to_string();
    assert!(message.contains("no live read model"), "{message}");
    let failed: String = sqlx::query_scalar("SELECT status FROM deedlog_read.reconciliation_runs")
        .fetch_one(&db.pool)
        .await
        .expect("run recorded");
    assert_eq!(failed, "failed");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Whatever the histories and however they are cut into batches, the
    /// incrementally built model equals a rebuild from zero.
    #[test]
    fn the_incremental_model_equals_a_rebuild_from_zero(
        histories in proptest::collection::vec((0u64..20, 1usize..4), 1..8),
        batches in proptest::collection::vec(1u32..40, 1..6),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(async {
            let db = TestDb::new().await;
            let tenant = db.tenant().await;
            let projection: Arc<dyn Projection> = Arc::new(Properties);
            let mut live = db.projector(projection.clone(), 1).await;
            for (round, (changes, appends)) in histories.iter().enumerate() {
                let stream = new_stream();
                let mut price = 60_000_000;
                let mut events = vec![created("Mainz", price)];
                events.extend((0..*changes).map(|n| change(n + round as u64, &mut price)));
                for chunk in events.chunks(events.len().div_ceil(*appends)) {
                    db.append(tenant, stream, chunk).await;
                }
                // Project part of the way with this round's batch size.
                let batch = batches[round % batches.len()];
                let mut p = db.projector(projection.clone(), batch).await;
                let _ = p.project_batch().await.expect("step");
            }
            catch_up(&mut live).await;
            let incremental = schema_rows(&db, "rm_properties").await;
            let report = reconcile(&db.pool, &db.reader, projection.clone(), 13, &mut |_| {}).await.expect("reconcile");
            assert!(report.is_clean(), "{report:?}");
            rebuild::rebuild(&db.pool, &db.reader, projection, 5, &mut |_| {}).await.expect("rebuild");
            // Not assert_eq!: a failure would print every row.
            let rebuilt = schema_rows(&db, "rm_properties").await;
            let differing = rebuilt.iter().zip(&incremental).filter(|(a, b)| a != b).count();
            assert!(rebuilt.len() == incremental.len() && differing == 0,
                "{} rows rebuilt, {} incremental, {differing} differ; first: {:?}",
                rebuilt.len(), incremental.len(),
                rebuilt.iter().zip(&incremental).find(|(a, b)| a != b));
        });
    }
}
