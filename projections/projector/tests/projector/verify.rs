//! Background verification: drift of any origin shows on the metrics and
//! in the recorded runs, a clean read model shows none, and two
//! reconciliations of one projection never run at once.

use crate::support::*;
use deedlog_projector::lease::Lease;
use deedlog_projector::projections::properties::Properties;
use deedlog_projector::verify::Verifier;
use deedlog_projector::{reconcile, Error, Projection, Stats};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn built(db: &TestDb) {
    let tenant = db.tenant().await;
    for city in ["Hamburg", "Bremen", "Kiel"] {
        db.append(tenant, new_stream(), &[created(city, 40_000_000)])
            .await;
    }
    catch_up(&mut db.projector(Arc::new(Properties), 100).await).await;
}

fn verifier(db: &TestDb, stats: &BTreeMap<&'static str, Arc<Stats>>) -> Verifier {
    Verifier {
        projections: vec![Arc::new(Properties)],
        pool: db.pool.clone(),
        reader: db.reader.clone(),
        interval: Duration::from_millis(50),
        batch_size: 100,
        stats: stats.clone(),
    }
}

#[tokio::test]
async fn a_read_model_that_lost_a_row_shows_drift_on_the_metrics_and_in_the_runs() {
    let db = TestDb::new().await;
    built(&db).await;
    let stats: BTreeMap<&'static str, Arc<Stats>> =
        [("properties", Arc::new(Stats::default()))].into();
    verifier(&db, &stats).verify(Arc::new(Properties)).await;
    assert_eq!(stats["properties"].drift_rows.load(Ordering::Relaxed), 0);
    let runs = reconcile::latest(&db.pool).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].status.as_str(), runs[0].drift_rows), ("clean", 0));

    // A row lost, as a skipped event would lose it; lag stays 0.
    sqlx::query(
        "DELETE FROM rm_properties.properties WHERE ctid = \
         (SELECT ctid FROM rm_properties.properties LIMIT 1)",
    )
    .execute(&db.pool)
    .await
    .expect("lose a row");
    let stop = CancellationToken::new();
    let task = tokio::spawn(verifier(&db, &stats).run_until_stopped(stop.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while stats["properties"].drift_rows.load(Ordering::Relaxed) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scheduled verification never reported the drift"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    task.await.expect("the verifier stops");

    let text = deedlog_projector::metrics::render(&stats, &[]);
    assert!(
        text.lines().any(|l| l
            .starts_with("deedlog_projection_drift_rows{projection=\"properties\"} ")
            && !l.ends_with(" 0")),
        "{text}"
    );
    let runs = reconcile::latest(&db.pool).await.expect("runs");
    assert_eq!(runs[0].status, "drift");
    assert!(runs[0].drift_rows >= 1);
}

#[tokio::test]
async fn a_second_reconciliation_of_a_projection_is_refused_while_one_runs() {
    let db = TestDb::new().await;
    built(&db).await;
    let projection: Arc<dyn Projection> = Arc::new(Properties);
    let running = Lease::try_acquire(&db.pool, "reconcile.properties")
        .await
        .expect("lease")
        .expect("free");
    let error = reconcile::reconcile(&db.pool, &db.reader, projection.clone(), 100, &mut |_| {})
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::ReconcileRunning(_)), "{error}");
    assert!(error.to_string().contains("already running"));
    running.release().await;
    let report = reconcile::reconcile(&db.pool, &db.reader, projection, 100, &mut |_| {})
        .await
        .expect("runs once the other is done");
    assert!(report.is_clean());
}
