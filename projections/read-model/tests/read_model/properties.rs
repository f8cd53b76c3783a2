//! The properties list: every filter, every sort, pages, bad input and
//! tenant isolation.

use crate::support::*;
use deedlog_kernel::{TenantId, UserId};
use deedlog_properties_domain::model::PropertyKind;
use deedlog_properties_domain::{Event, ListingStatus};
use deedlog_read_model::properties::{self, PropertyFilter, PropertySort};
use deedlog_read_model::{Error, Int64, Page, TenantScope};
use uuid::Uuid;

/// Six properties of tenant A (p[0] … p[5], created an hour apart), one
/// of tenant B.
struct Seed {
    a: TenantId,
    b: TenantId,
    p: Vec<Uuid>,
    b_property: Uuid,
    x: UserId,
}

async fn create(db: &TestDb, tenant: TenantId, hours: i64, p: &NewProperty) -> Uuid {
    let stream = new_stream();
    db.append_at(tenant, stream, "property", at(hours), &[p.event()])
        .await;
    stream.as_uuid()
}

async fn status(db: &TestDb, tenant: TenantId, property: Uuid, hours: i64, to: ListingStatus) {
    let stream = deedlog_kernel::StreamId::from_uuid(property);
    let event = Event::ListingStatusChanged {
        from: ListingStatus::Draft,
        to,
    };
    db.append_at(tenant, stream, "property", at(hours), &[event])
        .await;
}

async fn seed(db: &TestDb) -> Seed {
    let (a, b) = (db.tenant().await, db.tenant().await);
    let x = UserId::from_uuid(Uuid::now_v7());
    let y = UserId::from_uuid(Uuid::now_v7());
    use PropertyKind::*;
    let listings = [
        NewProperty {
            street: "Lindenstraße 5",
            city: "Berlin",
            kind: Apartment,
            price: Some(30_000_000),
            agent: Some(x),
            tags: &["balcony"],
        },
        NewProperty {
            street: "Elbchaussee 10",
            city: "Hamburg",
            kind: House,
            price: Some(50_000_000),
            agent: Some(y),
            tags: &["garden"],
        },
        NewProperty {
            street: "Kastanienallee 3",
            city: "Berlin",
            kind: House,
            price: Some(70_000_000),
            agent: Some(x),
            tags: &["balcony", "garden"],
        },
        NewProperty {
            street: "Leopoldstraße 1",
            city: "München",
            kind: Apartment,
            price: None,
            agent: None,
            tags: &[],
        },
        NewProperty {
            street: "Ringstraße 7",
            city: "Köln",
            kind: Land,
            price: Some(10_000_000),
            agent: Some(y),
            tags: &[],
        },
        NewProperty {
            street: "Lindenstraße 90",
            city: "BERLIN",
            kind: Commercial,
            price: Some(50_000_000),
            agent: Some(y),
            tags: &["balcony"],
        },
    ];
    let mut p = Vec::new();
    for (i, listing) in listings.iter().enumerate() {
        p.push(create(db, a, i as i64 + 1, listing).await);
    }
    // Last changes: p0 at +20h, p4 at +15h, p2 at +12h, p5 at +11h; p3
    // and p1 unchanged since creation (+4h, +2h).
    status(db, a, p[5], 11, ListingStatus::Withdrawn).await;
    status(db, a, p[2], 12, ListingStatus::Active).await;
    status(db, a, p[4], 15, ListingStatus::Active).await;
    status(db, a, p[0], 20, ListingStatus::Active).await;
    // Tenant B's one property is the same as p0.
    let b_property = create(db, b, 1, &listings[0]).await;
    db.project_all().await;
    Seed {
        a,
        b,
        p,
        b_property,
        x,
    }
}

async fn ids(db: &TestDb, tenant: TenantId, filter: &PropertyFilter) -> Vec<Uuid> {
    let mut scope = tenant_scope(db, tenant).await;
    let page = properties::list(scope.conn(), filter, &Page::first(100))
        .await
        .expect("list");
    assert!(!page.page_info.has_next_page);
    page.nodes().map(|r| r.property_id).collect()
}

#[tokio::test]
async fn every_filter_and_sort_of_the_list_gives_exactly_its_properties() {
    let db = TestDb::new().await;
    let s = seed(&db).await;
    let p = &s.p;
    let f = PropertyFilter::default;
    let cases: Vec<(&str, PropertyFilter, Vec<Uuid>)> = vec![
        (
            "all, newest first",
            f(),
            vec![p[5], p[4], p[3], p[2], p[1], p[0]],
        ),
        (
            "status",
            PropertyFilter {
                status: Some("active".into()),
                ..f()
            },
            vec![p[4], p[2], p[0]],
        ),
        (
            "kind",
            PropertyFilter {
                kind: Some("house".into()),
                ..f()
            },
            vec![p[2], p[1]],
        ),
        (
            "city ignoring case",
            PropertyFilter {
                city: Some("berlin".into()),
                ..f()
            },
            vec![p[5], p[2], p[0]],
        ),
        (
            "min price",
            PropertyFilter {
                min_price_minor: Some(50_000_000),
                ..f()
            },
            vec![p[5], p[2], p[1]],
        ),
        (
            "max price",
            PropertyFilter {
                max_price_minor: Some(30_000_000),
                ..f()
            },
            vec![p[4], p[0]],
        ),
        (
            "price range",
            PropertyFilter {
                min_price_minor: Some(20_000_000),
                max_price_minor: Some(50_000_000),
                ..f()
            },
            vec![p[5], p[1], p[0]],
        ),
        (
            "agent",
            PropertyFilter {
                agent_id: Some(s.x.as_uuid()),
                ..f()
            },
            vec![p[2], p[0]],
        ),
        (
            "tag",
            PropertyFilter {
                tag: Some("balcony".into()),
                ..f()
            },
            vec![p[5], p[2], p[0]],
        ),
        (
            "address text",
            PropertyFilter {
                text: Some("Lindenstraße".into()),
                ..f()
            },
            vec![p[5], p[0]],
        ),
        (
            "address text, two words",
            PropertyFilter {
                text: Some("lindenstraße 90".into()),
                ..f()
            },
            vec![p[5]],
        ),
        (
            "filters combined",
            PropertyFilter {
                city: Some("BERLIN".into()),
                tag: Some("balcony".into()),
                status: Some("active".into()),
                ..f()
            },
            vec![p[2], p[0]],
        ),
        (
            "nothing matches",
            PropertyFilter {
                tag: Some("pool".into()),
                ..f()
            },
            vec![],
        ),
        (
            "price ascending, unpriced last",
            PropertyFilter {
                sort: PropertySort::PriceAsc,
                ..f()
            },
            vec![p[4], p[0], p[1], p[5], p[2], p[3]],
        ),
        (
            "price descending, unpriced last",
            PropertyFilter {
                sort: PropertySort::PriceDesc,
                ..f()
            },
            vec![p[2], p[5], p[1], p[0], p[4], p[3]],
        ),
        (
            "last changed first",
            PropertyFilter {
                sort: PropertySort::UpdatedDesc,
                ..f()
            },
            vec![p[0], p[4], p[2], p[5], p[3], p[1]],
        ),
    ];
    for (what, filter, expected) in cases {
        assert_eq!(ids(&db, s.a, &filter).await, expected, "{what}");
    }
}

#[tokio::test]
async fn three_pages_of_two_hold_every_property_once_in_every_sort() {
    let db = TestDb::new().await;
    let s = seed(&db).await;
    for sort in [
        PropertySort::CreatedDesc,
        PropertySort::PriceAsc,
        PropertySort::PriceDesc,
        PropertySort::UpdatedDesc,
    ] {
        let filter = PropertyFilter {
            sort,
            ..PropertyFilter::default()
        };
        let whole = ids(&db, s.a, &filter).await;
        let mut scope = tenant_scope(&db, s.a).await;
        let mut seen = Vec::new();
        let mut page = Page::first(2);
        for n in 1..=3 {
            let got = properties::list(scope.conn(), &filter, &page)
                .await
                .expect("page");
            assert_eq!(got.edges.len(), 2, "{sort:?} page {n}");
            assert_eq!(got.page_info.has_next_page, n < 3, "{sort:?} page {n}");
            assert_eq!(got.page_info.has_previous_page, n > 1, "{sort:?} page {n}");
            let end = got
                .page_info
                .end_cursor
                .clone()
                .expect("a full page has an end");
            assert_eq!(Some(&end), got.edges.last().map(|e| &e.cursor));
            seen.extend(got.nodes().map(|r| r.property_id));
            page = Page::after(2, end);
        }
        assert_eq!(
            seen, whole,
            "{sort:?}: no duplicate, none missing, in order"
        );
        let after_last = properties::list(scope.conn(), &filter, &page)
            .await
            .expect("past the end");
        assert!(after_last.edges.is_empty());
        assert_eq!(after_last.page_info.end_cursor, None);

        // And back from the end: the same rows, each once, in the same order.
        let mut back = Vec::new();
        let mut page = Page::last(2);
        for n in 1..=3 {
            let got = properties::list(scope.conn(), &filter, &page)
                .await
                .expect("page");
            assert_eq!(got.edges.len(), 2, "{sort:?} back page {n}");
            assert_eq!(
                got.page_info.has_previous_page,
                n < 3,
                "{sort:?} back page {n}"
            );
            assert_eq!(got.page_info.has_next_page, n > 1, "{sort:?} back page {n}");
            let start = got
                .page_info
                .start_cursor
                .clone()
                .expect("a full page has a start");
            let mut rows: Vec<Uuid> = got.nodes().map(|r| r.property_id).collect();
            rows.extend(back);
            back = rows;
            page = Page::before(2, start);
        }
        assert_eq!(
            back, whole,
            "{sort:?}: backwards, no duplicate, none missing, in order"
        );
        let before_first = properties::list(scope.conn(), &filter, &page)
            .await
            .expect("before the start");
        assert!(before_first.edges.is_empty());
        scope.finish().await.expect("finish");
    }
}

#[tokio::test]
async fn bad_pages_and_cursors_are_refused_with_a_clear_message() {
    let db = TestDb::new().await;
    let s = seed(&db).await;
    let mut scope = tenant_scope(&db, s.a).await;
    let filter = PropertyFilter::default();
    let refused = |result: Result<_, Error>| match result {
        Err(e @ Error::BadInput { .. }) => e.to_string(),
        other => panic!("expected bad input, got {other:?}"),
    };
    let zero = refused(properties::list(scope.conn(), &filter, &Page::first(0)).await);
    assert_eq!(
        zero,
        "invalid `first`: a page holds 1 to 100 rows, but 0 were asked for"
    );
    let many = refused(properties::list(scope.conn(), &filter, &Page::first(101)).await);
    assert_eq!(
        many,
        "invalid `first`: a page holds 1 to 100 rows, but 101 were asked for"
    );
    let garbage =
        refused(properties::list(scope.conn(), &filter, &Page::after(10, "garbage")).await);
    assert_eq!(
        garbage,
        "invalid `after`: \"garbage\" is not a cursor of this list; pass an edge's `cursor`, or a \
         page's `endCursor` (with `after`) or `startCursor` (with `before`), exactly as returned"
    );
    let forged = format!("created_desc:notanumber:{}", s.p[0]);
    refused(properties::list(scope.conn(), &filter, &Page::after(10, forged)).await);
    let first = properties::list(scope.conn(), &filter, &Page::first(1))
        .await
        .expect("page");
    let cursor = first.page_info.end_cursor.expect("end");
    let other_sort = PropertyFilter {
        sort: PropertySort::PriceAsc,
        ..PropertyFilter::default()
    };
    let mixed =
        refused(properties::list(scope.conn(), &other_sort, &Page::after(10, cursor)).await);
    assert_eq!(
        mixed,
        "invalid `after`: the cursor belongs to the list ordered by created_desc, not by price_asc"
    );
    let range = PropertyFilter {
        min_price_minor: Some(2),
        max_price_minor: Some(1),
        ..PropertyFilter::default()
    };
    refused(properties::list(scope.conn(), &range, &Page::first(10)).await);
    let typo = PropertyFilter {
        status: Some("actve".into()),
        ..PropertyFilter::default()
    };
    assert_eq!(
        refused(properties::list(scope.conn(), &typo, &Page::first(10)).await),
        "invalid `status`: \"actve\" is not one of draft, active, reserved, under_contract, sold, withdrawn"
    );
    let kind = PropertyFilter {
        kind: Some("castle".into()),
        ..PropertyFilter::default()
    };
    let message = refused(properties::list(scope.conn(), &kind, &Page::first(10)).await);
    assert!(message.contains("multi_family"), "{message}");
}

#[tokio::test]
async fn a_tenant_sees_only_its_own_properties() {
    let db = TestDb::new().await;
    let s = seed(&db).await;
    let all_of_a = ids(&db, s.a, &PropertyFilter::default()).await;
    assert_eq!(all_of_a.len(), 6);
    // Reads run in spawned tasks, as in a web server: the futures are Send.
    let (pool, tenant) = (db.pool.clone(), s.a.as_uuid());
    let listed = tokio::spawn(async move {
        let mut scope = TenantScope::begin(&pool, tenant).await?;
        let page =
            properties::list(scope.conn(), &PropertyFilter::default(), &Page::first(10)).await?;
        scope.finish().await?;
        Ok::<_, Error>(page.edges.len())
    })
    .await
    .expect("the read task");
    assert_eq!(listed.expect("listed"), 6);
    assert!(!all_of_a.contains(&s.b_property));
    let same_street = PropertyFilter {
        text: Some("Lindenstraße 5".into()),
        ..PropertyFilter::default()
    };
    assert_eq!(ids(&db, s.a, &same_street).await, vec![s.p[0]]);
    assert_eq!(
        ids(&db, s.b, &PropertyFilter::default()).await,
        vec![s.b_property]
    );

    let mut scope = tenant_scope(&db, s.a).await;
    assert_eq!(scope.tenant(), s.a.as_uuid());
    assert_eq!(
        properties::get(scope.conn(), s.b_property)
            .await
            .expect("get"),
        None
    );
    assert!(properties::price_history(scope.conn(), s.b_property)
        .await
        .expect("prices")
        .is_empty());
    let own = properties::get(scope.conn(), s.p[0])
        .await
        .expect("get")
        .expect("A's own");
    assert_eq!(
        (
            own.city.as_str(),
            own.asking_price_minor,
            own.listing_status.as_str()
        ),
        ("Berlin", Some(Int64(30_000_000)), "active")
    );
    assert_eq!(own.tags, vec!["balcony".to_owned()]);
    assert_eq!(own.created_at, at(1));
    assert_eq!(own.updated_at, at(20));
    let prices = properties::price_history(scope.conn(), s.p[0])
        .await
        .expect("prices");
    assert_eq!(
        prices
            .iter()
            .map(|r| (r.from_minor, r.to_minor))
            .collect::<Vec<_>>(),
        vec![(None, Int64(30_000_000))]
    );
    assert!(properties::valuations(scope.conn(), s.p[0])
        .await
        .expect("valuations")
        .is_empty());

    // Without a scope, the application role sees nothing at all.
    let mut conn = db.pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE deedlog_app")
        .execute(&mut *conn)
        .await
        .expect("role");
    let page = properties::list(&mut conn, &PropertyFilter::default(), &Page::first(10))
        .await
        .expect("list");
    assert!(page.edges.is_empty(), "no tenant bound, no rows");
}
