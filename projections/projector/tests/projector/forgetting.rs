//! Forgetting a contact or a user (ADR 0035): once `ContactForgotten` or
//! `UserForgotten` is applied, every read model equals one rebuilt from the
//! log with the forgotten people's personal fields erased (what readers see
//! once their data keys are destroyed), holds none of their data, and keeps
//! everyone else's. Analysts read no personal column.
//!
//! The erased log is made here by rewriting the stored payloads with
//! `deedlog_kernel::privacy::erase` under each domain's declarations, the
//! immutability trigger switched off for the purpose; reconciliation then
//! rebuilds each projection from it and compares every row with the live
//! model built from the plaintext.

use crate::support::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_communications_domain::{Channel, Event as Contact, LawfulBasis, PostalAddress};
use deedlog_deals_domain::Event as Deal;
use deedlog_kernel::privacy::{erase, subject_of, PersonalFields, ERASED};
use deedlog_kernel::{DomainEvent, Module, Role, StreamId, TenantId, UserId};
use deedlog_projector::projections::{self, by_name};
use deedlog_projector::{rebuild, runner, Projection};
use deedlog_properties_domain::Event as Property;
use deedlog_tenancy_domain::tenant::{Event as Tenant, NewUser};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// Every string of the forgotten contact and the forgotten user.
const FORGOTTEN: [&str; 11] = [
    "Carla Contact",
    "carla.contact@example.de",
    "+49 151 0000001",
    "Carlastraße 7",
    "CB2 1TN",
    "Carlsdorf",
    "Viewing for Carla",
    "Dear Carla, see you on Friday",
    "550 carla.contact@example.de: no such mailbox",
    "Thanks, Carla here",
    "Una Agent",
];
/// The forgotten user's email (not in `FORGOTTEN`'s timeline sense: no
/// entry ever quotes an email, but the tenancy model holds it).
const UNA_EMAIL: &str = "una.agent@example.de";

/// Monday 2 November 2026, 10:00 UTC, plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0)
        .single()
        .expect("instant")
        + Duration::minutes(minutes)
}

/// The people of one history.
struct World {
    tenant: TenantId,
    admin: UserId,
    una: UserId,
    carla: StreamId,
    kurt: StreamId,
}

impl World {
    async fn append<E: serde::Serialize + DomainEvent>(
        &self,
        db: &TestDb,
        stream: StreamId,
        stream_type: &str,
        by: UserId,
        minute: i64,
        events: &[E],
    ) {
        let actor = format!("user:{}", by.as_uuid());
        db.append_to(
            self.tenant,
            stream,
            stream_type,
            events,
            metadata_by(self.tenant, &actor, at(minute)),
        )
        .await;
    }
}

fn address(street: &str, postal_code: &str, city: &str) -> Option<PostalAddress> {
    Some(PostalAddress {
        street: street.into(),
        postal_code: postal_code.into(),
        city: city.into(),
        country: "DE".into(),
    })
}

/// A tenant with an admin and an agent (Una), a property and a deal Una
/// handles for the buyer Carla, messages to and from Carla and to Kurt;
/// then Carla is forgotten, Una deactivated and forgotten.
async fn history(db: &TestDb) -> World {
    let tenant = db.tenant().await;
    let world = World {
        tenant,
        admin: UserId::from_uuid(Uuid::now_v7()),
        una: UserId::from_uuid(Uuid::now_v7()),
        carla: new_stream(),
        kurt: new_stream(),
    };
    let (admin, una) = (world.admin, world.una);
    let tenant_stream = StreamId::from_uuid(tenant.as_uuid());
    world
        .append(
            db,
            tenant_stream,
            "tenant",
            admin,
            0,
            &[
                Tenant::TenantRegistered {
                    name: "Maklerei Nord".into(),
                    slug: "maklerei-nord".into(),
                    modules: Module::ALL.into_iter().collect(),
                    first_admin: NewUser {
                        id: admin,
                        email: "ada@example.de".into(),
                        display_name: "Ada Admin".into(),
                    },
                },
                Tenant::UserInvited {
                    user: NewUser {
                        id: una,
                        email: UNA_EMAIL.into(),
                        display_name: "Una Agent".into(),
                    },
                    role: Role::Agent,
                },
            ],
        )
        .await;
    world
        .append(
            db,
            tenant_stream,
            "tenant",
            una,
            1,
            &[Tenant::UserActivated { user: una }],
        )
        .await;

    let property = new_stream();
    let mut created = created("Ulm", 45_000_000);
    if let Property::PropertyCreated { agent, owner, .. } = &mut created {
        *agent = Some(una);
        *owner = Some(world.carla.as_uuid());
    }
    world
        .append(
            db,
            property,
            "property",
            una,
            2,
            &[
                created,
                Property::AgentAssigned {
                    from: Some(una),
                    to: admin,
                },
                Property::AgentAssigned {
                    from: Some(admin),
                    to: una,
                },
            ],
        )
        .await;

    let carla = world.carla;
    let (queued, letter, reply) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    world
        .append(
            db,
            carla,
            "contact",
            una,
            3,
            &[
                Contact::ContactCreated {
                    name: "Carla Contact".into(),
                    email: Some("carla.contact@example.de".into()),
                    phone: Some("+49 151 0000001".into()),
                    address: address("Carlastraße 7", "CB2 1TN", "Carlsdorf"),
                },
                Contact::ConsentGranted {
                    channel: Channel::Email,
                    lawful_basis: LawfulBasis::Consent,
                    source: "web form".into(),
                },
                Contact::ConsentGranted {
                    channel: Channel::Letter,
                    lawful_basis: LawfulBasis::Contract,
                    source: "contract".into(),
                },
                Contact::MessageQueued {
                    message_id: queued,
                    conversation_id: queued,
                    channel: Channel::Email,
                    subject: Some("Viewing for Carla".into()),
                    body: "Dear Carla, see you on Friday".into(),
                    property: Some(property.as_uuid()),
                    deal: None,
                    at: at(3),
                },
                Contact::MessageQueued {
                    message_id: letter,
                    conversation_id: letter,
                    channel: Channel::Letter,
                    subject: None,
                    body: "Dear Carla, see you on Friday".into(),
                    property: None,
                    deal: None,
                    at: at(3),
                },
                Contact::MessageBounced {
                    message_id: queued,
                    channel: Channel::Email,
                    hard: false,
                    detail: "550 carla.contact@example.de: no such mailbox".into(),
                    provider_event_id: "pe-1".into(),
                    at: at(4),
                },
                Contact::ReplyReceived {
                    message_id: reply,
                    in_reply_to: Some(queued),
                    conversation_id: queued,
                    channel: Channel::Email,
                    body: "Thanks, Carla here".into(),
                    provider_event_id: "pe-2".into(),
                    at: at(5),
                },
                Contact::ContactUpdated {
                    name: "Carla Contact".into(),
                    email: Some("carla.contact@example.de".into()),
                    phone: None,
                    address: address("Carlastraße 7", "CB2 1TN", "Carlsdorf"),
                },
            ],
        )
        .await;
    let deal = new_stream();
    world
        .append(
            db,
            deal,
            "deal",
            una,
            6,
            &[
                Deal::DealOpened {
                    property: property.as_uuid(),
                    buyer: carla.as_uuid(),
                    agent: una,
                    offer: Some(eur(44_000_000)),
                    commission: None,
                    expected_close: None,
                },
                Deal::DealReassigned {
                    from: una,
                    to: admin,
                },
                Deal::DealReassigned {
                    from: admin,
                    to: una,
                },
            ],
        )
        .await;
    let kurt_message = Uuid::now_v7();
    world
        .append(
            db,
            world.kurt,
            "contact",
            admin,
            7,
            &[
                Contact::ContactCreated {
                    name: "Kurt Kept".into(),
                    email: Some("kurt@example.de".into()),
                    phone: None,
                    address: address("Kurtweg 1", "20095", "Hamburg"),
                },
                Contact::MessageQueued {
                    message_id: kurt_message,
                    conversation_id: kurt_message,
                    channel: Channel::Email,
                    subject: Some("Kurt's subject".into()),
                    body: "Hello Kurt".into(),
                    property: None,
                    deal: None,
                    at: at(7),
                },
            ],
        )
        .await;

    world
        .append(
            db,
            carla,
            "contact",
            admin,
            8,
            &[Contact::ContactForgotten {}],
        )
        .await;
    world
        .append(
            db,
            tenant_stream,
            "tenant",
            admin,
            9,
            &[
                Tenant::UserDeactivated { user: una },
                Tenant::UserForgotten { user: una },
            ],
        )
        .await;
    world
}

/// Rewrites the log as readers see it once the forgotten subjects' keys
/// are destroyed: every personal field of theirs erased.
async fn erase_log(db: &TestDb, subjects: &HashSet<String>) {
    let specs: Vec<(&str, &[PersonalFields])> = vec![
        ("contact", deedlog_communications_domain::personal::PERSONAL),
        ("tenant", deedlog_tenancy_domain::personal::PERSONAL),
    ];
    let events: Vec<(i64, String, Uuid, String, String)> = sqlx::query_as(
        "SELECT position, stream_type, stream_id, event_type, payload::text FROM events ORDER BY position",
    )
    .fetch_all(&db.pool)
    .await
    .expect("events");
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_are_immutable")
        .execute(&mut *tx)
        .await
        .expect("allow the test to rewrite history");
    let mut erased = 0;
    for (position, stream_type, stream_id, event_type, payload) in events {
        let Some(spec) = specs
            .iter()
            .filter(|(t, _)| *t == stream_type)
            .flat_map(|(_, specs)| specs.iter())
            .find(|spec| spec.event_type == event_type)
        else {
            continue;
        };
        let mut payload: serde_json::Value = serde_json::from_str(&payload).expect("json");
        let stream_id = stream_id.to_string();
        let forgotten = subject_of(spec.subject, &stream_id, &payload)
            .is_some_and(|subject| subjects.contains(subject));
        if !forgotten {
            continue;
        }
        erase(spec, &mut payload);
        sqlx::query("UPDATE events SET payload = $1::json WHERE position = $2")
            .bind(payload.to_string())
            .bind(position)
            .execute(&mut *tx)
            .await
            .expect("erase an event");
        erased += 1;
    }
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_are_immutable")
        .execute(&mut *tx)
        .await
        .expect("history immutable again");
    tx.commit().await.expect("commit");
    // ContactCreated, ContactUpdated, 2 MessageQueued, MessageBounced,
    // ReplyReceived of Carla; UserInvited of Una.
    assert_eq!(erased, 7, "the erased events");
}

/// Every row of `schema` but its checkpoint, as JSON text.
async fn rows_text(db: &TestDb, schema: &str) -> Vec<String> {
    schema_rows(db, schema)
        .await
        .into_iter()
        .filter(|row| row.get("ddl_hash").is_none())
        .map(|row| row.to_string())
        .collect()
}

/// Builds `projection` live from the plaintext history with its forgetting
/// events, checks that it holds nothing of the forgotten people and that a
/// rebuild from the erased log reconciles with it row for row; returns the
/// live rows.
async fn forgets(name: &str) -> (TestDb, World, Vec<String>) {
    let db = TestDb::new().await;
    let world = history(&db).await;
    let projection: Arc<dyn Projection> = by_name(name).expect("projection");
    // Small batches: the forgetting meets rows of earlier batches.
    catch_up(&mut db.projector(projection.clone(), 3).await).await;
    let rows = rows_text(&db, &format!("rm_{name}")).await;
    for text in FORGOTTEN.iter().chain([&UNA_EMAIL]) {
        let holding: Vec<_> = rows.iter().filter(|row| row.contains(text)).collect();
        assert!(
            holding.is_empty(),
            "{name} still holds {text:?}: {holding:?}"
        );
    }

    let subjects: HashSet<String> = [world.carla.as_uuid(), world.una.as_uuid()]
        .iter()
        .map(Uuid::to_string)
        .collect();
    erase_log(&db, &subjects).await;
    assert_reconciles_clean(&db, projection.clone(), 4).await;
    // And a rebuild in one batch, swapped in, gives the same rows.
    rebuild::rebuild(&db.pool, &db.reader, projection, 1000, &mut |_| {})
        .await
        .expect("rebuild");
    let mut rebuilt = rows_text(&db, &format!("rm_{name}")).await;
    let mut live = rows.clone();
    live.sort();
    rebuilt.sort();
    assert_eq!(
        live.len(),
        rebuilt.len(),
        "{name}: rows against the rebuild"
    );
    for (a, b) in live.iter().zip(&rebuilt) {
        assert_eq!(a, b, "{name}: a live row differs from the rebuild");
    }
    (db, world, rows)
}

fn holds(rows: &[String], text: &str) -> bool {
    rows.iter().any(|row| row.contains(text))
}

#[tokio::test]
async fn forgetting_a_contact_erases_their_details_and_message_texts_and_keeps_the_rest() {
    let (db, world, rows) = forgets("communications").await;
    for kept in [
        "Kurt Kept",
        "kurt@example.de",
        "Kurtweg 1",
        "Kurt's subject",
        "Hello Kurt",
    ] {
        assert!(holds(&rows, kept), "another contact's {kept:?} stays");
    }
    let (name, email, phone, street, consent_source): (String, Option<String>, Option<String>, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT c.name, c.email, c.phone, c.street, k.consent_source \
             FROM rm_communications.contacts c JOIN rm_communications.compliance k USING (contact_id) \
             WHERE contact_id = $1 AND k.channel = 'email'",
        )
        .bind(world.carla.as_uuid())
        .fetch_one(&db.pool)
        .await
        .expect("carla");
    assert_eq!(name, ERASED);
    assert_eq!(email.as_deref(), Some(ERASED));
    assert_eq!(phone, None, "the update had cleared it: nothing to erase");
    assert_eq!(street, None, "an address reads null");
    assert_eq!(consent_source.as_deref(), Some("web form"), "consents stay");
    let (out, in_, subjects): (i64, i64, Vec<Option<String>>) = sqlx::query_as(
        "SELECT c.messages_out, c.messages_in, \
                (SELECT array_agg(subject ORDER BY position) FROM rm_communications.messages m \
                 WHERE m.contact_id = c.contact_id) \
         FROM rm_communications.contacts c WHERE contact_id = $1",
    )
    .bind(world.carla.as_uuid())
    .fetch_one(&db.pool)
    .await
    .expect("counts");
    assert_eq!((out, in_), (2, 1), "counts stay");
    assert_eq!(subjects, vec![Some(ERASED.to_owned()), None, None]);
}

#[tokio::test]
async fn forgetting_a_user_erases_their_email_and_name_and_keeps_their_roster_entry() {
    let (db, world, rows) = forgets("tenancy").await;
    assert!(holds(&rows, "Ada Admin") && holds(&rows, "ada@example.de"));
    let (email, name, role, status): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT email, display_name, role, status FROM rm_tenancy.users WHERE user_id = $1",
    )
    .bind(world.una.as_uuid())
    .fetch_one(&db.pool)
    .await
    .expect("una");
    assert_eq!(
        (email.as_deref(), name.as_deref()),
        (Some(ERASED), Some(ERASED))
    );
    assert_eq!(
        (role.as_deref(), status.as_deref()),
        (Some("agent"), Some("deactivated"))
    );
}

#[tokio::test]
async fn forgetting_erases_names_from_the_timeline_and_keeps_everyone_elses() {
    let (db, world, rows) = forgets("timeline").await;
    assert!(holds(&rows, "Ada Admin"), "the kept admin's name stays");
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT text FROM rm_timeline.entries WHERE event_type IN ('DealReassigned', 'ContactCreated') \
         AND stream_id <> $1 ORDER BY position",
    )
    .bind(world.kurt.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("entries");
    assert_eq!(
        texts,
        [
            "contact created with email address and phone number by [erased]",
            "deal reassigned from [erased] to Ada Admin by [erased]",
            "deal reassigned from Ada Admin to [erased] by [erased]",
        ]
    );
}

#[tokio::test]
async fn forgetting_leaves_deals_as_a_rebuild_from_the_erased_log() {
    forgets("deals").await;
}

#[tokio::test]
async fn forgetting_leaves_properties_as_a_rebuild_from_the_erased_log() {
    forgets("properties").await;
}

#[tokio::test]
async fn forgetting_leaves_analytics_as_a_rebuild_from_the_erased_log() {
    forgets("analytics").await;
}

#[tokio::test]
async fn forgetting_leaves_notifications_as_a_rebuild_from_the_erased_log() {
    // Ids, kinds, stages and amounts only: nothing to erase, and a rebuild
    // from the erased log gives the same rows.
    let (_, _, rows) = forgets("notifications").await;
    assert!(!rows.is_empty(), "the world notifies someone");
}

/// The SQLSTATE of `sql` run as the analyst role, or `None` if it ran.
async fn as_analyst(db: &TestDb, sql: &str) -> Option<String> {
    let mut conn = session(db, &["SET ROLE deedlog_analyst"]).await;
    let refused =
        sqlx::query(sql)
            .fetch_all(&mut conn)
            .await
            .err()
            .map(|e| match e.as_database_error() {
                Some(db) => db.code().map(|c| c.into_owned()).unwrap_or_default(),
                None => e.to_string(),
            });
    sqlx::Connection::close(conn).await.expect("close");
    refused
}

/// Asserts the analyst is refused every personal column and reads the rest.
async fn assert_analyst_reads_no_personal_column(db: &TestDb) {
    for projection in projections::all() {
        let schema = format!("rm_{}", projection.name());
        for personal in deedlog_projector::personal::of(projection.name()) {
            for column in personal.columns {
                let sql = format!("SELECT {column} FROM {schema}.{}", personal.table);
                assert_eq!(
                    as_analyst(db, &sql).await.as_deref(),
                    Some("42501"),
                    "{sql} is refused to analysts"
                );
            }
        }
    }
    for sql in [
        "SELECT email FROM rm_communications.contacts",
        "SELECT * FROM rm_communications.contacts",
        "SELECT display_name FROM rm_tenancy.users",
        "SELECT body FROM rm_communications.messages",
    ] {
        assert_eq!(as_analyst(db, sql).await.as_deref(), Some("42501"), "{sql}");
    }
    for sql in [
        "SELECT contact_id, tenant_id, do_not_call, messages_out FROM rm_communications.contacts",
        "SELECT message_id, channel, status, bounce_hard FROM rm_communications.messages",
        "SELECT * FROM rm_communications.compliance",
        "SELECT user_id, role, status FROM rm_tenancy.users",
        "SELECT position, event_type, actor FROM rm_timeline.entries",
        "SELECT * FROM rm_analytics.funnel",
        "SELECT * FROM rm_analytics.messages_by_week",
        "SELECT * FROM rm_deals.deals",
        "SELECT * FROM rm_properties.properties",
        "SELECT * FROM rm_communications.checkpoint",
    ] {
        assert_eq!(as_analyst(db, sql).await, None, "analysts read {sql}");
    }
    let analyst_rows: i64 = {
        let mut conn = session(db, &["SET ROLE deedlog_analyst"]).await;
        sqlx::query_scalar("SELECT count(contact_id) FROM rm_communications.contacts")
            .fetch_one(&mut conn)
            .await
            .expect("count")
    };
    assert_eq!(analyst_rows, 2, "analysts read every tenant's rows");
    // The application role still reads personal columns in its tenant.
    let mut app = session(db, &["SET ROLE deedlog_app"]).await;
    sqlx::query("SELECT email, name FROM rm_communications.contacts")
        .fetch_all(&mut app)
        .await
        .expect("the application role reads personal columns");
}

#[tokio::test]
async fn analysts_read_no_personal_column_in_live_rebuilt_or_older_schemas() {
    let db = TestDb::new().await;
    history(&db).await;
    db.project_all().await;
    assert_analyst_reads_no_personal_column(&db).await;
    let mut app = session(&db, &["SET ROLE deedlog_app"]).await;
    let mut tx = sqlx::Connection::begin(&mut app).await.expect("begin");
    sqlx::query("SELECT set_config('deedlog.tenant_id', $1, true)")
        .bind(
            sqlx::query_scalar::<_, Uuid>(
                "SELECT tenant_id FROM rm_communications.contacts LIMIT 1",
            )
            .fetch_one(&db.pool)
            .await
            .expect("tenant")
            .to_string(),
        )
        .execute(&mut *tx)
        .await
        .expect("bind");
    let mut names: Vec<String> = sqlx::query_scalar("SELECT name FROM rm_communications.contacts")
        .fetch_all(&mut *tx)
        .await
        .expect("names");
    names.sort();
    assert_eq!(
        names,
        ["Kurt Kept", ERASED],
        "the app reads its tenant's personal columns"
    );
    // Closed, not dropped: an open transaction would block the swaps below.
    tx.rollback().await.expect("rollback");
    sqlx::Connection::close(app).await.expect("close");

    // A rebuild swaps in a schema of its own: it must not regain access.
    for projection in projections::all() {
        rebuild::rebuild(&db.pool, &db.reader, projection, 1000, &mut |_| {})
            .await
            .expect("rebuild");
    }
    assert_analyst_reads_no_personal_column(&db).await;

    // A schema made by an older version granted whole tables: starting
    // takes the personal columns back.
    for projection in projections::all() {
        sqlx::query(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA rm_{} TO deedlog_analyst",
            projection.name()
        ))
        .execute(&db.pool)
        .await
        .expect("grant as an older version did");
    }
    assert_eq!(
        as_analyst(&db, "SELECT email FROM rm_communications.contacts").await,
        None
    );
    for projection in projections::all() {
        runner::ensure_live(db.pool.clone(), projection)
            .await
            .expect("ensure live");
    }
    assert_analyst_reads_no_personal_column(&db).await;

    // Analysts read stored reconciliation runs: a drift in a personal
    // column is named there without its values.
    sqlx::query(
        "UPDATE rm_communications.contacts SET email = 'leak@example.de' WHERE name = 'Kurt Kept'",
    )
    .execute(&db.pool)
    .await
    .expect("drift");
    let communications = by_name("communications").expect("projection");
    let report = deedlog_projector::reconcile::reconcile(
        &db.pool,
        &db.reader,
        communications,
        100,
        &mut |_| {},
    )
    .await
    .expect("reconcile");
    assert_eq!(report.differing, 1);
    assert!(
        format!("{:?}", report.differences).contains("leak@example.de"),
        "the operator's report shows the values"
    );
    let stored: String = sqlx::query_scalar(
        "SELECT report::text FROM deedlog_read.reconciliation_runs WHERE id = $1",
    )
    .bind(report.run_id)
    .fetch_one(&db.pool)
    .await
    .expect("stored run");
    assert!(
        stored.contains("\"email\""),
        "the column is named: {stored}"
    );
    for value in ["leak@example.de", "kurt@example.de"] {
        assert!(
            !stored.contains(value),
            "the stored run holds {value}: {stored}"
        );
    }
}

#[test]
fn docs_mark_exactly_the_personal_columns() {
    let text = include_str!("../../../../docs/read-models.md");
    let mut table = None;
    let mut marked = HashSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            table = Some(name.trim().to_owned());
        } else if let (Some(table), Some(rest)) = (&table, line.strip_prefix("| `")) {
            if let Some((column, rest)) = rest.split_once('`') {
                if rest.contains("**Personal.**") {
                    marked.insert(format!("{table}.{column}"));
                }
            }
        }
    }
    let declared: HashSet<String> = projections::all()
        .iter()
        .flat_map(|p| {
            deedlog_projector::personal::of(p.name())
                .iter()
                .flat_map(move |t| {
                    t.columns
                        .iter()
                        .map(move |c| format!("rm_{}.{}.{c}", p.name(), t.table))
                })
        })
        .collect();
    let mut unmarked: Vec<_> = declared.difference(&marked).collect();
    let mut extra: Vec<_> = marked.difference(&declared).collect();
    unmarked.sort();
    extra.sort();
    assert!(
        unmarked.is_empty(),
        "personal columns not marked in docs/read-models.md: {unmarked:?}"
    );
    assert!(
        extra.is_empty(),
        "columns marked personal that are not declared: {extra:?}"
    );
}
