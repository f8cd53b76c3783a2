//! The projector in the running cluster: commands sent over gRPC reach the
//! read models, and for random command sequences the incrementally built
//! read models equal a rebuild from zero, table by table.

use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use deedlog_tests::clients::command;
use deedlog_tests::fixtures::{
    clara_voss, consent, email, eur, lindenstrasse, new_contact, reprice,
};
use deedlog_tests::{Clients, Session, TestCluster};
use proptest::prelude::*;
use sqlx::{ConnectOptions, Connection};
use std::sync::Arc;

/// One command of a random sequence; indexes pick an earlier record.
#[derive(Debug, Clone)]
enum Step {
    CreateProperty,
    ChangePrice(usize, i64),
    ChangeStatus(usize, i32),
    AddTag(usize, u8),
    OpenDeal,
    MoveStage(usize, i32),
    CreateContact,
    GrantEmailConsent(usize),
    SendEmail(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::CreateProperty),
        (0usize..8, 1i64..90_000_000).prop_map(|(i, p)| Step::ChangePrice(i, p)),
        (0usize..8, 1i32..7).prop_map(|(i, s)| Step::ChangeStatus(i, s)),
        (0usize..8, 0u8..4).prop_map(|(i, t)| Step::AddTag(i, t)),
        Just(Step::OpenDeal),
        (0usize..8, 1i32..7).prop_map(|(i, s)| Step::MoveStage(i, s)),
        Just(Step::CreateContact),
        (0usize..8).prop_map(Step::GrantEmailConsent),
        (0usize..8).prop_map(Step::SendEmail),
    ]
}

#[derive(Default)]
struct Records {
    properties: Vec<String>,
    deals: Vec<String>,
    contacts: Vec<String>,
}

fn pick(ids: &[String], i: usize) -> Option<String> {
    (!ids.is_empty()).then(|| ids[i % ids.len()].clone())
}

/// Sends one step; rule refusals are part of life and ignored.
async fn send(c: &mut Clients, s: &Session, records: &mut Records, step: &Step) {
    match step {
        Step::CreateProperty => {
            let reply = c
                .properties
                .create_property(s.request(props::CreatePropertyRequest {
                    command: command(),
                    address: Some(lindenstrasse()),
                    kind: props::PropertyKind::House.into(),
                    asking_price: eur(50_000_000),
                    ..Default::default()
                }))
                .await
                .expect("create property");
            records.properties.push(reply.into_inner().record_id);
        }
        Step::ChangePrice(i, price) => {
            if let Some(id) = pick(&records.properties, *i) {
                let _ = c
                    .properties
                    .change_asking_price(s.request(reprice(&id, eur(*price))))
                    .await;
            }
        }
        Step::ChangeStatus(i, status) => {
            if let Some(id) = pick(&records.properties, *i) {
                let _ = c
                    .properties
                    .change_listing_status(s.request(props::ChangeListingStatusRequest {
                        command: command(),
                        property_id: id,
                        status: *status,
                    }))
                    .await;
            }
        }
        Step::AddTag(i, tag) => {
            if let Some(id) = pick(&records.properties, *i) {
                let _ = c
                    .properties
                    .add_tag(s.request(props::TagRequest {
                        command: command(),
                        property_id: id,
                        tag: format!("tag{tag}"),
                    }))
                    .await;
            }
        }
        Step::OpenDeal => {
            let deal = c.deal(s).await;
            records.deals.push(deal);
        }
        Step::MoveStage(i, stage) => {
            if let Some(id) = pick(&records.deals, *i) {
                let _ = c
                    .deals
                    .move_stage(s.request(deals::MoveStageRequest {
                        command: command(),
                        deal_id: id,
                        stage: *stage,
                    }))
                    .await;
            }
        }
        Step::CreateContact => {
            let reply = c
                .communications
                .create_contact(s.request(new_contact(clara_voss())))
                .await
                .expect("create contact");
            records.contacts.push(reply.into_inner().record_id);
        }
        Step::GrantEmailConsent(i) => {
            if let Some(id) = pick(&records.contacts, *i) {
                let _ = c
                    .communications
                    .grant_consent(s.request(consent(&id, comms::Channel::Email)))
                    .await;
            }
        }
        Step::SendEmail(i) => {
            if let Some(id) = pick(&records.contacts, *i) {
                let _ = c
                    .communications
                    .send_message(s.request(email(&id, "Exposé", "Anbei das Exposé.")))
                    .await;
            }
        }
    }
}

/// Every row of every table of every projection, as sorted JSON per table.
async fn snapshot(conn: &mut sqlx::PgConnection) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut out = Vec::new();
    for projection in deedlog_projector::projections::all() {
        let live = deedlog_projector::schema::live(projection.name());
        let tables =
            deedlog_projector::schema::keyed_tables(&mut *conn, &live, projection.as_ref())
                .await
                .expect("tables");
        for table in tables {
            let name = format!("{live}.{}", table.name);
            let rows: Vec<serde_json::Value> =
                sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM {name} t ORDER BY 1"))
                    .fetch_all(&mut *conn)
                    .await
                    .expect("rows");
            out.push((name, rows));
        }
    }
    out
}

async fn log_head(conn: &mut sqlx::PgConnection) -> u64 {
    let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(conn)
        .await
        .expect("head");
    head.map_or(0, |h| u64::try_from(h).expect("log positions are positive"))
}

#[tokio::test]
async fn a_command_is_in_the_read_model_once_its_position_is_reached() {
    let cluster = TestCluster::start_with_projector().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let mut records = Records::default();
    send(&mut c, &admin, &mut records, &Step::CreateProperty).await;
    let reply = c
        .properties
        .change_asking_price(admin.request(reprice(&records.properties[0], eur(43_000_000))))
        .await
        .expect("price")
        .into_inner();
    cluster.wait_for_read_models(reply.position).await;
    // Read as the gateway will: the application role, bound to the tenant.
    let mut conn = cluster.database_options().connect().await.expect("connect");
    sqlx::query("SET ROLE deedlog_app")
        .execute(&mut conn)
        .await
        .expect("role");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('deedlog.tenant_id', $1, true)")
        .bind(&admin.tenant_id)
        .execute(&mut *tx)
        .await
        .expect("bind tenant");
    let (price, version): (i64, i64) = sqlx::query_as(
        "SELECT asking_price_minor, version FROM rm_properties.properties WHERE property_id = $1::uuid",
    )
    .bind(&records.properties[0])
    .fetch_one(&mut *tx)
    .await
    .expect("the property is in the read model");
    assert_eq!((price, version), (43_000_000, reply.version as i64));
    tx.rollback().await.expect("rollback");

    // The projector's /metrics: what it applied, and no lag once caught up.
    let addr = cluster.projector_metrics.expect("projector metrics");
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    for projection in ["properties", "timeline", "tenancy"] {
        let lag = format!("deedlog_projection_lag_positions{{projection=\"{projection}\"}} 0");
        assert!(text.lines().any(|l| l == lag), "missing {lag:?} in\n{text}");
        let applied = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "deedlog_projection_events_total{{projection=\"{projection}\"}} "
                ))
            })
            .and_then(|v| v.parse::<f64>().ok())
            .expect("events counter");
        assert!(applied > 0.0, "{projection} applied nothing: {text}");
    }
    assert!(
        text.contains("# TYPE deedlog_projection_lag_seconds gauge"),
        "{text}"
    );
    assert!(text.contains("deedlog_projection_dead_letters_pending{projection=\"deals\"} 0"));
    cluster.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn for_random_commands_the_live_read_models_equal_a_rebuild_table_by_table(
        steps in proptest::collection::vec(step(), 4..30)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let cluster = TestCluster::start_with_projector().await;
            let mut c = Clients::connect(&cluster).await;
            let admin = c.register("berg").await;
            let mut records = Records::default();
            for step in &steps {
                send(&mut c, &admin, &mut records, step).await;
            }
            let mut conn = cluster.database_options().connect().await.expect("connect");
            cluster.wait_for_read_models(log_head(&mut conn).await).await;
            let live = snapshot(&mut conn).await;

            let options = cluster.database_options();
            let connect = deedlog_eventstore::ConnectOptions {
                connect: options.clone(),
                max_connections: 4,
                acquire_timeout: std::time::Duration::from_secs(10),
                app_role: "deedlog_app".into(),
                reader_role: "deedlog_log_reader".into(),
            };
            let reader = deedlog_eventstore::LogReader::connect(
                &connect,
                Arc::new(deedlog_eventstore::Upcasters::new()),
            )
            .await
            .expect("reader");
            // Personal fields are sealed in the log: the rebuild opens them as the projector does.
            let keyring = deedlog_cluster::privacy::keyring(&cluster.settings, reader.pool().clone())
                .await
                .expect("keyring");
            let reader = reader.with_keyring(keyring);
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .expect("pool");
            for projection in deedlog_projector::projections::all() {
                let name = projection.name();
                let report = deedlog_projector::reconcile::reconcile(
                    &pool, &reader, projection.clone(), 7, &mut |_| {},
                )
                .await
                .expect("reconcile");
                assert!(report.is_clean(), "{name}: {:?}", report.differences.first());
                deedlog_projector::rebuild::rebuild(&pool, &reader, projection, 5, &mut |_| {})
                    .await
                    .expect("rebuild");
            }
            let rebuilt = snapshot(&mut conn).await;
            for ((table, live_rows), (_, rebuilt_rows)) in live.iter().zip(&rebuilt) {
                let differing = live_rows.iter().zip(rebuilt_rows).filter(|(a, b)| a != b).count();
                assert!(
                    live_rows.len() == rebuilt_rows.len() && differing == 0,
                    "{table}: {} live rows, {} rebuilt, {differing} differ",
                    live_rows.len(),
                    rebuilt_rows.len()
                );
            }
            cluster.stop().await;
        });
    }
}
