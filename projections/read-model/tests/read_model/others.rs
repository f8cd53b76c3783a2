//! Communications, the timeline, tenancy and freshness.

use crate::support::*;
use deedlog_communications_domain::{Channel, Event as ContactEvent};
use deedlog_kernel::StreamId;
use deedlog_properties_domain::{Event as PropertyEvent, ListingStatus};
use deedlog_read_model::{communications, tenancy, timeline, Error, Page, Projection};
use std::time::Duration;

/// Channel, consent, reachable, suppression reasons, blocked by, sendable.
type ChannelView<'a> = (&'a str, &'a str, bool, Vec<&'a str>, Vec<&'a str>, bool);

#[tokio::test]
async fn a_contacts_compliance_suppressions_and_messages_read_as_projected() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let contact = new_stream();
    let message = uuid::Uuid::now_v7();
    let events = [
        contact_created("Lena Hoffmann", "lena@example.de", "+4915112345678"),
        email_consent(),
        ContactEvent::DoNotCallSet {},
        ContactEvent::MessageQueued {
            message_id: message,
            conversation_id: message,
            channel: Channel::Email,
            subject: Some("Viewing".into()),
            body: "Hello".into(),
            property: None,
            deal: None,
            at: at(1),
        },
    ];
    db.append_at(tenant, contact, "contact", at(1), &events)
        .await;
    db.project_all().await;

    let mut scope = tenant_scope(&db, tenant).await;
    let row = communications::get(scope.conn(), contact.as_uuid())
        .await
        .expect("get")
        .expect("contact");
    assert_eq!(
        (row.name.as_str(), row.do_not_call, row.messages_out),
        ("Lena Hoffmann", true, 1)
    );
    let compliance = communications::compliance(scope.conn(), contact.as_uuid())
        .await
        .expect("compliance");
    let view: Vec<ChannelView> = compliance
        .iter()
        .map(|c| {
            (
                c.channel.as_str(),
                c.consent.as_str(),
                c.reachable,
                c.suppression_reasons.iter().map(String::as_str).collect(),
                c.blocked_by.iter().map(String::as_str).collect(),
                c.sendable,
            )
        })
        .collect();
    assert_eq!(
        view,
        vec![
            ("email", "granted", true, vec![], vec![], true),
            (
                "sms",
                "none",
                true,
                vec!["do_not_call"],
                vec!["no_consent", "do_not_call"],
                false
            ),
            (
                "call",
                "none",
                true,
                vec!["do_not_call"],
                vec!["no_consent", "do_not_call"],
                false
            ),
            ("letter", "none", false, vec![], vec!["no_consent"], false),
        ]
    );
    let first = communications::suppressions(scope.conn(), &Page::first(1))
        .await
        .expect("suppressions");
    assert!(first.page_info.has_next_page);
    let rest = communications::suppressions(
        scope.conn(),
        &Page::after(10, first.page_info.end_cursor.clone().expect("end")),
    )
    .await
    .expect("rest");
    let channels: Vec<&str> = first
        .nodes()
        .chain(rest.nodes())
        .map(|s| s.channel.as_str())
        .collect();
    assert_eq!(channels, vec!["call", "sms"]);
    assert!(!rest.page_info.has_next_page);
    let messages = communications::messages(scope.conn(), contact.as_uuid(), &Page::first(10))
        .await
        .expect("messages");
    assert_eq!(
        messages
            .nodes()
            .map(|m| (m.message_id, m.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(message, "queued")]
    );
    let conversations = communications::conversations(scope.conn(), contact.as_uuid())
        .await
        .expect("conversations");
    assert_eq!(
        conversations
            .iter()
            .map(|c| (c.conversation_id, c.messages_out))
            .collect::<Vec<_>>(),
        vec![(message, 1)]
    );
}

#[tokio::test]
async fn a_timeline_reads_in_log_order_page_by_page() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let property = new_stream();
    let statuses = [
        ListingStatus::Active,
        ListingStatus::Reserved,
        ListingStatus::Active,
    ];
    let mut from = ListingStatus::Draft;
    create_property(&db, tenant, property).await;
    for (n, to) in statuses.into_iter().enumerate() {
        db.append_at(
            tenant,
            property,
            "property",
            at(n as i64 + 1),
            &[PropertyEvent::ListingStatusChanged { from, to }],
        )
        .await;
        from = to;
    }
    db.project_all().await;
    let mut scope = tenant_scope(&db, tenant).await;
    let mut page = Page::first(3);
    let mut entries = Vec::new();
    loop {
        let got = timeline::entries(scope.conn(), property.as_uuid(), &page)
            .await
            .expect("entries");
        entries.extend(got.edges.into_iter().map(|e| e.node));
        match (got.page_info.has_next_page, got.page_info.end_cursor) {
            (true, Some(end)) => page = Page::after(3, end),
            _ => break,
        }
    }
    assert_eq!(
        entries.iter().map(|e| e.version.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(entries.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(entries[0].event_type, "PropertyCreated");
    assert!(
        entries[2].summary.contains("reserved"),
        "{}",
        entries[2].summary
    );
    let bad = timeline::entries(scope.conn(), property.as_uuid(), &Page::after(3, "-4")).await;
    assert!(
        matches!(bad, Err(Error::BadInput { field: "after", .. })),
        "{bad:?}"
    );
    // The store registers a tenant id without a tenant stream: the tenancy
    // statements run, on no rows (their row types are not exercised here).
    assert_eq!(tenancy::tenant(scope.conn()).await.expect("tenant"), None);
    assert!(tenancy::users(scope.conn())
        .await
        .expect("users")
        .is_empty());
    assert!(tenancy::modules(scope.conn())
        .await
        .expect("modules")
        .is_empty());
}

#[tokio::test]
async fn wait_for_returns_once_caught_up_and_names_the_lagging_projection_on_timeout() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let property = new_stream();
    let head = create_property(&db, tenant, property).await;
    db.project_all().await;
    let mut conn = db.pool.acquire().await.expect("conn");
    for projection in [
        Projection::Properties,
        Projection::Timeline,
        Projection::Analytics,
    ] {
        assert_eq!(
            deedlog_read_model::freshness(&mut conn, projection)
                .await
                .expect("freshness"),
            head
        );
    }
    deedlog_read_model::wait_for(&db.pool, &Projection::ALL, head, Duration::from_millis(10))
        .await
        .expect("caught up");

    let next = db
        .append_at(
            tenant,
            StreamId::from_uuid(property.as_uuid()),
            "property",
            at(1),
            &[PropertyEvent::TagAdded {
                tag: "garden".into(),
            }],
        )
        .await;
    let started = std::time::Instant::now();
    let error = deedlog_read_model::wait_for(
        &db.pool,
        &[Projection::Deals, Projection::Properties],
        next,
        Duration::from_millis(150),
    )
    .await
    .expect_err("nothing projected the new event");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(started.elapsed() < Duration::from_secs(5));
    let Error::NotCaughtUp {
        projection,
        awaited,
        reached,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    // Deals ignore property events but move their checkpoint only when they project.
    assert_eq!((*projection, *awaited, *reached), ("deals", next, head));
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "the deals read model has reached log position {head}, not yet {next}; gave up after"
        )),
        "{message}"
    );
    db.project_all().await;
    deedlog_read_model::wait_for(
        &db.pool,
        &[Projection::Deals, Projection::Properties],
        next,
        Duration::from_secs(1),
    )
    .await
    .expect("caught up after projecting");
    assert_eq!(
        "timeline".parse::<Projection>().expect("name"),
        Projection::Timeline
    );
    assert!("rm_properties".parse::<Projection>().is_err());
}

#[tokio::test]
async fn a_tenant_its_users_and_modules_read_as_projected_and_only_by_that_tenant() {
    use deedlog_kernel::UserId;
    use deedlog_tenancy_domain::tenant::{Event as TenantEvent, NewUser};
    use deedlog_tenancy_domain::{Module, Role};

    let db = TestDb::new().await;
    let (tenant, other) = (db.tenant().await, db.tenant().await);
    let (anna, ben) = (
        UserId::from_uuid(uuid::Uuid::now_v7()),
        UserId::from_uuid(uuid::Uuid::now_v7()),
    );
    let stream = StreamId::from_uuid(tenant.as_uuid());
    let registered = TenantEvent::TenantRegistered {
        name: "Berg Immobilien".into(),
        slug: "berg".into(),
        modules: [
            Module::Properties,
            Module::Deals,
            Module::Communications,
            Module::Analytics,
        ]
        .into_iter()
        .collect(),
        first_admin: NewUser {
            id: anna,
            email: "anna@berg.example".into(),
            display_name: "Anna Berg".into(),
        },
    };
    db.append_at(tenant, stream, "tenant", at(1), &[registered])
        .await;
    db.append_at(
        tenant,
        stream,
        "tenant",
        at(2),
        &[
            TenantEvent::UserInvited {
                user: NewUser {
                    id: ben,
                    email: "ben@berg.example".into(),
                    display_name: "Ben Lund".into(),
                },
                role: Role::Agent,
            },
            TenantEvent::ModuleDisabled {
                module: Module::Analytics,
            },
        ],
    )
    .await;
    db.project_all().await;

    let mut scope = tenant_scope(&db, tenant).await;
    let row = tenancy::tenant(scope.conn())
        .await
        .expect("tenant")
        .expect("the tenant is projected");
    assert_eq!(
        (row.name.as_str(), row.slug.as_str(), row.status.as_str()),
        ("Berg Immobilien", "berg", "active")
    );
    let users = tenancy::users(scope.conn()).await.expect("users");
    let mut seen: Vec<(String, String, String)> = users
        .iter()
        .map(|u| {
            (
                u.display_name.clone().unwrap_or_default(),
                u.role.clone().unwrap_or_default(),
                u.status.clone().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("Anna Berg".into(), "admin".into(), "active".into()),
            ("Ben Lund".into(), "agent".into(), "invited".into()),
        ]
    );
    let modules = tenancy::modules(scope.conn()).await.expect("modules");
    let off: Vec<&str> = modules
        .iter()
        .filter(|m| !m.enabled)
        .map(|m| m.module.as_str())
        .collect();
    assert_eq!((modules.len(), off), (4, vec!["analytics"]));
    scope.finish().await.expect("finish");

    // Another tenant's scope sees none of it.
    let mut theirs = tenant_scope(&db, other).await;
    assert_eq!(tenancy::tenant(theirs.conn()).await.expect("tenant"), None);
    assert!(tenancy::users(theirs.conn())
        .await
        .expect("users")
        .is_empty());
}

#[tokio::test]
async fn price_changes_valuations_and_messages_read_by_week() {
    use chrono::NaiveDate;
    use deedlog_communications_domain::RefusalReason;
    use deedlog_properties_domain::model::Source;
    use deedlog_read_model::{analytics, properties};

    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let property = new_stream();
    // 2026-12-01 is a Tuesday: its week starts on Monday 2026-11-30.
    create_property(&db, tenant, property).await;
    let changed = |from: i64, to: i64| PropertyEvent::AskingPriceChanged {
        from: Some(eur(from)),
        to: eur(to),
    };
    db.append_at(
        tenant,
        property,
        "property",
        at(1),
        &[changed(30_000_000, 29_000_000)],
    )
    .await;
    db.append_at(
        tenant,
        property,
        "property",
        at(2),
        &[PropertyEvent::ValuationRecorded {
            value: eur(31_000_000),
            source: Source::Provider("PriceHubble".into()),
            valued_on: NaiveDate::from_ymd_opt(2026, 11, 28).expect("date"),
        }],
    )
    .await;
    // A week later: an increase.
    db.append_at(
        tenant,
        property,
        "property",
        at(7 * 24),
        &[changed(29_000_000, 29_500_000)],
    )
    .await;
    let contact = new_stream();
    let conversation = uuid::Uuid::now_v7();
    db.append_at(
        tenant,
        contact,
        "contact",
        at(3),
        &[
            contact_created("Clara Voss", "clara@example.com", "+4930123456"),
            email_consent(),
            ContactEvent::MessageQueued {
                message_id: uuid::Uuid::now_v7(),
                conversation_id: conversation,
                channel: Channel::Email,
                subject: Some("Exposé".into()),
                body: "Anbei das Exposé.".into(),
                property: Some(property.as_uuid()),
                deal: None,
                at: at(3),
            },
            ContactEvent::MessageRefused {
                message_id: uuid::Uuid::now_v7(),
                conversation_id: conversation,
                channel: Channel::Sms,
                reasons: vec![RefusalReason::NoConsent {
                    channel: Channel::Sms,
                }],
                at: at(3),
            },
        ],
    )
    .await;
    db.project_all().await;

    let mut scope = tenant_scope(&db, tenant).await;
    let monday = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let next = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
    let weeks: Vec<_> = analytics::price_changes(scope.conn(), monday, next)
        .await
        .expect("price changes")
        .into_iter()
        .map(|w| {
            (
                w.week_start,
                w.changes,
                w.decreases,
                w.increases,
                w.abs_change_minor.0,
            )
        })
        .collect();
    assert_eq!(
        weeks,
        vec![(monday, 1, 1, 0, 1_000_000), (next, 1, 0, 1, 500_000)]
    );
    let only_first = analytics::price_changes(scope.conn(), monday, monday)
        .await
        .expect("price changes");
    assert_eq!(only_first.len(), 1);

    let valuations = properties::valuations(scope.conn(), property.as_uuid())
        .await
        .expect("valuations");
    assert_eq!(valuations.len(), 1);
    assert_eq!(
        (
            valuations[0].value_minor.0,
            valuations[0].source_kind.as_str(),
            valuations[0].source_name.as_deref()
        ),
        (31_000_000, "provider", Some("PriceHubble"))
    );

    let messages = analytics::messages_by_week(scope.conn(), monday, monday)
        .await
        .expect("messages");
    let email = messages
        .iter()
        .find(|m| m.channel == "email")
        .expect("email");
    let sms = messages.iter().find(|m| m.channel == "sms").expect("sms");
    assert_eq!((email.sent, email.refused), (1, 0));
    assert_eq!((sms.sent, sms.refused), (0, 1));
    assert!(analytics::messages_by_week(scope.conn(), next, next)
        .await
        .expect("messages")
        .is_empty());
}
