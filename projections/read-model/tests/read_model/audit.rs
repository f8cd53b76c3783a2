//! The audit history: every filter, pages, bad input, tenant isolation, and
//! reconciliation run summaries without their reports.

use crate::support::*;
use chrono::Utc;
use deedlog_kernel::TenantId;
use deedlog_properties_domain::model::PropertyKind;
use deedlog_properties_domain::Event;
use deedlog_read_model::audit::{self, AuditFilter, EventRow};
use deedlog_read_model::{Error, Int64, Page};

fn created(city: &'static str) -> Event {
    NewProperty {
        city,
        kind: PropertyKind::House,
        ..NewProperty::default()
    }
    .event()
}

async fn read(db: &TestDb, tenant: TenantId, filter: &AuditFilter, page: &Page) -> Vec<EventRow> {
    let mut scope = tenant_scope(db, tenant).await;
    let rows = audit::events(scope.conn(), filter, page)
        .await
        .expect("audit events");
    scope.finish().await.expect("finish");
    rows.nodes().cloned().collect()
}

fn positions(rows: &[EventRow]) -> Vec<Int64> {
    rows.iter().map(|r| r.position).collect()
}

#[tokio::test]
async fn the_history_filters_by_record_actor_type_and_time_pages_and_hides_other_tenants() {
    let db = TestDb::new().await;
    let (a, b) = (db.tenant().await, db.tenant().await);
    let (p1, p2, other) = (new_stream(), new_stream(), new_stream());
    db.append_at(a, p1, "property", at(0), &[created("Berlin")])
        .await;
    db.append_at(
        a,
        p1,
        "property",
        at(1),
        &[Event::AskingPriceChanged {
            from: Some(eur(30_000_000)),
            to: eur(31_000_000),
        }],
    )
    .await;
    db.append_at(b, other, "property", at(1), &[created("Ulm")])
        .await;
    let mid = Utc::now();
    db.append_at(a, p2, "property", at(2), &[created("Köln")])
        .await;

    let all = read(&db, a, &AuditFilter::default(), &Page::first(100)).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(positions(&all).windows(2).all(|w| w[0] < w[1]));
    assert!(all.iter().all(|r| r.stream_id != other.as_uuid()));
    assert_eq!(all[1].event_type, "AskingPriceChanged");
    assert_eq!(all[1].payload["to"]["amount_minor"], 31_000_000);
    assert_eq!((all[1].version, all[1].schema_version), (Int64(2), 1));
    assert_eq!(all[1].occurred_at, at(1));

    let of = |filter: AuditFilter| {
        let db = &db;
        async move { read(db, a, &filter, &Page::first(100)).await }
    };
    let record = of(AuditFilter {
        record: Some(p1.as_uuid()),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&record), positions(&all[..2]));
    let actor = of(AuditFilter {
        actor: Some(all[2].actor.clone()),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&actor), vec![all[2].position]);
    let typed = of(AuditFilter {
        event_type: Some("AskingPriceChanged".into()),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&typed), vec![all[1].position]);
    let since = of(AuditFilter {
        from: Some(mid),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&since), vec![all[2].position]);
    let until = of(AuditFilter {
        to: Some(mid),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&until), positions(&all[..2]));
    let both = of(AuditFilter {
        record: Some(p1.as_uuid()),
        event_type: Some("PropertyCreated".into()),
        to: Some(mid),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(positions(&both), vec![all[0].position]);

    // Pages of two, then the rest.
    let mut scope = tenant_scope(&db, a).await;
    let first = audit::events(scope.conn(), &AuditFilter::default(), &Page::first(2))
        .await
        .expect("first page");
    assert!(first.page_info.has_next_page);
    assert_eq!(
        first.nodes().map(|r| r.position).collect::<Vec<_>>(),
        positions(&all[..2])
    );
    let cursor = first.page_info.end_cursor.clone().expect("cursor");
    let second = audit::events(
        scope.conn(),
        &AuditFilter::default(),
        &Page::after(2, cursor),
    )
    .await
    .expect("second page");
    assert!(!second.page_info.has_next_page);
    assert_eq!(
        second.nodes().map(|r| r.position).collect::<Vec<_>>(),
        vec![all[2].position]
    );

    // A range that ends before it starts is refused, naming `from`.
    let backwards = AuditFilter {
        from: Some(at(2)),
        to: Some(at(1)),
        ..AuditFilter::default()
    };
    match audit::events(scope.conn(), &backwards, &Page::first(10)).await {
        Err(e @ Error::BadInput { field: "from", .. }) => {
            assert!(e.to_string().contains("must not be after"), "{e}");
        }
        other => panic!("expected bad input on `from`, got {other:?}"),
    }
    scope.finish().await.expect("finish");

    // Tenant B sees its own event only, and nothing of A's record.
    let theirs = read(&db, b, &AuditFilter::default(), &Page::first(100)).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].stream_id, other.as_uuid());
    let peek = read(
        &db,
        b,
        &AuditFilter {
            record: Some(p1.as_uuid()),
            ..AuditFilter::default()
        },
        &Page::first(100),
    )
    .await;
    assert!(peek.is_empty(), "{peek:?}");
}

#[tokio::test]
async fn reconciliation_runs_show_their_summaries_to_every_tenant_but_never_their_reports() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    for (projection, status, differing) in [
        ("properties", "clean", 0_i64),
        ("deals", "drift", 2),
        ("properties", "drift", 1),
    ] {
        sqlx::query(
            "INSERT INTO deedlog_read.reconciliation_runs \
             (projection, position, finished_at, status, differing_rows, report, error) \
             VALUES ($1, 42, now(), $2, $3, '[{\"key\": \"secret\"}]', NULL)",
        )
        .bind(projection)
        .bind(status)
        .bind(differing)
        .execute(&db.pool)
        .await
        .expect("insert a run");
    }
    let mut scope = tenant_scope(&db, tenant).await;
    let runs = audit::reconciliation_runs(scope.conn(), None, 10)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 3);
    assert!(
        runs.windows(2)
            .all(|w| (w[0].started_at, w[0].id) >= (w[1].started_at, w[1].id)),
        "newest first: {runs:?}"
    );
    let properties = audit::reconciliation_runs(scope.conn(), Some("properties"), 10)
        .await
        .expect("runs of one projection");
    assert_eq!(properties.len(), 2);
    assert!(properties.iter().all(|r| r.projection == "properties"));
    let latest = audit::reconciliation_runs(scope.conn(), None, 1)
        .await
        .expect("latest run");
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].position, Some(Int64(42)));
    match audit::reconciliation_runs(scope.conn(), Some("propertys"), 10).await {
        Err(Error::BadInput {
            field: "projection",
            ..
        }) => {}
        other => panic!("expected bad input on `projection`, got {other:?}"),
    }
    match audit::reconciliation_runs(scope.conn(), None, 0).await {
        Err(Error::BadInput { field: "limit", .. }) => {}
        other => panic!("expected bad input on `limit`, got {other:?}"),
    }
    scope.finish().await.expect("finish");

    // The application role cannot read the differences themselves.
    let mut scope = tenant_scope(&db, tenant).await;
    let report = sqlx::query("SELECT report FROM deedlog_read.reconciliation_runs")
        .execute(scope.conn())
        .await;
    assert!(report.is_err(), "deedlog_app read a run's report");
}
