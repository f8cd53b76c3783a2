//! The gateway benchmark: the whole cluster in this process (services,
//! projector, GraphQL gateway) and, as the peer, PostGraphile (npm) serving
//! the same read-model tables of the same database. For
//! `properties(first: 20)` with a filter, for the pipeline board's totals
//! and for a page of the kanban board (20 cards with property and buyer):
//! p50/p99 at 1,000 requests/s (open loop, latency from each request's
//! scheduled time) and the most requests/s 32 closed-loop clients get; the
//! same for PostGraphile in the same run. Writes `target/bench/gateway.json`.

use deedlog_cluster::Component;
use deedlog_proto::{communications::v1 as comms, deals::v1 as deals};
use deedlog_proto::{properties::v1 as props, tenancy::v1 as tenancy};
use deedlog_tests::fixtures::{eur, move_stage};
use deedlog_tests::report::{self, RATE};
use deedlog_tests::{clients::command, Clients, Session, TestCluster};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
const CLIENTS: usize = 32;
const PROPERTIES: usize = 3_000;
const DEALS: usize = 300;
const CITIES: [&str; 5] = ["Berlin", "Hamburg", "München", "Köln", "Leipzig"];
const POOL: u32 = 16;

const OURS_PROPERTIES: &str = r#"{ properties(first: 20, filter: {city: "Berlin"}) {
  edges { cursor node { propertyId street city askingPriceMinor listingStatus } }
  pageInfo { hasNextPage endCursor } } }"#;
const OURS_PIPELINE: &str = "{ pipeline { stage count totalMinor weightedMinor currency } }";
/// A page of the kanban board: one column's first 20 cards, each with its
/// property's address and its buyer's name.
const OURS_BOARD: &str = r#"{ deals(first: 20, filter: {stage: LEAD}) {
  edges { cursor node { dealId stage offerMinor property { street city } buyer { name } } }
  pageInfo { hasNextPage endCursor } } }"#;
const PEER_PROPERTIES: &str = r#"{ allProperties(first: 20, condition: {city: "Berlin"}, orderBy: CREATED_AT_DESC) {
  edges { cursor node { propertyId street city askingPriceMinor listingStatus } }
  pageInfo { hasNextPage endCursor } } }"#;
const PEER_PIPELINE: &str =
    "{ allPipelineBoards { nodes { stage count totalMinor weightedMinor currency } } }";
/// The same page through the relations `PEER_VIEW` declares.
const PEER_BOARD: &str = r#"{ allDeals(first: 20, condition: {stage: "lead"}, orderBy: [UPDATED_AT_DESC, DEAL_ID_DESC]) {
  edges { cursor node { dealId stage offerMinor property { street city } buyer { name } } }
  pageInfo { hasNextPage endCursor } } }"#;

/// One GraphQL endpoint under load.
#[derive(Clone)]
struct Target {
    url: String,
    token: Option<String>,
    body: Arc<String>,
    http: reqwest::Client,
}

impl Target {
    fn new(url: &str, token: Option<&str>, query: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("client");
        Self {
            url: url.to_owned(),
            token: token.map(str::to_owned),
            body: Arc::new(json!({ "query": query }).to_string()),
            http,
        }
    }

    /// The query as a POST, with the bearer token if there is one.
    fn request(&self) -> reqwest::RequestBuilder {
        let request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(self.body.as_ref().clone());
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends the query once; true when the answer had data and no errors.
    async fn once(&self) -> bool {
        let request = self.request();
        match request.send().await {
            Ok(response) if response.status().is_success() => match response.bytes().await {
                Ok(bytes) => !bytes.windows(9).any(|w| w == b"\"errors\":"),
                Err(_) => false,
            },
            _ => false,
        }
    }

    /// The answer, for checking that both servers agree before measuring.
    async fn answer(&self) -> Option<Value> {
        let request = self.request();
        request.send().await.ok()?.json().await.ok()
    }
}

/// p50 and p99 in ms at RATE requests/s, and the failures.
async fn open_loop(target: &Target) -> (f64, f64, usize) {
    let period = Duration::from_secs(1) / RATE;
    let warm = WARMUP.as_secs() as u32 * RATE;
    let total = warm + MEASURE.as_secs() as u32 * RATE;
    let (start, mut tasks) = (Instant::now(), JoinSet::new());
    for i in 0..total {
        let at = start + period * i;
        tokio::time::sleep_until(at).await;
        let target = target.clone();
        tasks.spawn(async move {
            let ok = target.once().await;
            (i >= warm, ok, at.elapsed())
        });
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for (measured, ok, latency) in tasks.join_all().await {
        if measured {
            latencies.push(latency);
            failures += usize::from(!ok);
        }
    }
    latencies.sort();
    (pct(&latencies, 0.5), pct(&latencies, 0.99), failures)
}

/// Requests/s that CLIENTS closed-loop clients complete successfully.
async fn closed_loop(target: &Target) -> f64 {
    let start = Instant::now();
    let mut clients = JoinSet::new();
    for _ in 0..CLIENTS {
        let target = target.clone();
        clients.spawn(async move {
            let mut ok = 0usize;
            while start.elapsed() < MEASURE {
                ok += usize::from(target.once().await);
            }
            ok
        });
    }
    let done: usize = clients.join_all().await.into_iter().sum();
    done as f64 / start.elapsed().as_secs_f64()
}

fn pct(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Properties in five cities and deals at every open stage.
async fn seed(clients: &Clients, agent: &Session) -> u64 {
    let mut workers = JoinSet::new();
    for w in 0..16 {
        let (mut c, s) = (clients.clone(), agent.clone());
        workers.spawn(async move {
            let mut last = 0;
            for i in (w..PROPERTIES).step_by(16) {
                let created = c
                    .properties
                    .create_property(s.request(props::CreatePropertyRequest {
                        command: command(),
                        address: Some(props::Address {
                            street: format!("Lindenstraße {i}"),
                            postal_code: "10969".into(),
                            city: CITIES[i % CITIES.len()].into(),
                            country: "DE".into(),
                            ..Default::default()
                        }),
                        kind: props::PropertyKind::Apartment.into(),
                        asking_price: eur(20_000_000 + (i as i64 % 97) * 500_000),
                        ..Default::default()
                    }))
                    .await
                    .expect("property")
                    .into_inner();
                last = last.max(created.position);
                if i % (PROPERTIES / DEALS) != 0 {
                    continue;
                }
                let contact = c
                    .communications
                    .create_contact(s.request(comms::CreateContactRequest {
                        command: command(),
                        details: Some(comms::ContactDetails {
                            name: format!("Buyer {i}"),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }))
                    .await
                    .expect("contact")
                    .into_inner()
                    .record_id;
                let deal = c
                    .deals
                    .open_deal(s.request(deals::OpenDealRequest {
                        command: command(),
                        property_id: created.record_id,
                        buyer_contact_id: contact,
                        offer: eur(30_000_000),
                        ..Default::default()
                    }))
                    .await
                    .expect("deal")
                    .into_inner();
                last = last.max(deal.position);
                let stages = [
                    deals::Stage::Qualified,
                    deals::Stage::Viewing,
                    deals::Stage::Offer,
                    deals::Stage::Negotiation,
                    deals::Stage::UnderContract,
                ];
                for stage in stages.iter().take(i / (PROPERTIES / DEALS) % 6) {
                    let moved = c
                        .deals
                        .move_stage(s.request(move_stage(&deal.record_id, *stage)))
                        .await
                        .expect("move")
                        .into_inner();
                    last = last.max(moved.position);
                }
            }
            last
        });
    }
    workers.join_all().await.into_iter().max().unwrap_or(0)
}

/// The peer's view: the board's SQL, run as the caller (row-level security
/// applies); the deals' relations to their property and buyer, and no
/// second and third `checkpoint` type, as PostGraphile's smart comments.
const PEER_VIEW: &str = "
CREATE SCHEMA IF NOT EXISTS bench_peer;
CREATE OR REPLACE VIEW bench_peer.pipeline_board WITH (security_invoker = true) AS
  SELECT stage, count(*) AS count, COALESCE(sum(offer_minor), 0)::bigint AS total_minor,
         COALESCE(sum(expected_value_minor), 0)::bigint AS weighted_minor, currency
  FROM rm_deals.deals WHERE is_open GROUP BY stage, currency
  ORDER BY array_position(ARRAY['lead', 'qualified', 'viewing', 'offer', 'negotiation',
           'under_contract'], stage), currency NULLS LAST;
GRANT USAGE ON SCHEMA bench_peer TO deedlog_app;
GRANT SELECT ON bench_peer.pipeline_board TO deedlog_app;
COMMENT ON TABLE rm_deals.checkpoint IS E'@omit';
COMMENT ON TABLE rm_communications.checkpoint IS E'@omit';
COMMENT ON TABLE rm_deals.deals IS E'@foreignKey (property_id) references rm_properties.properties (property_id)|@fieldName property\n@foreignKey (buyer_contact_id) references rm_communications.contacts (contact_id)|@fieldName buyer';";

/// Installs PostGraphile (once) under target/bench and starts it.
fn start_postgraphile(root: &Path, database_url: &str, port: u16, tenant: &str) -> Child {
    let dir: PathBuf = root.join("target/bench/postgraphile");
    std::fs::create_dir_all(&dir).expect("create target/bench/postgraphile");
    let source = root.join("tests/benches/postgraphile");
    for file in ["package.json", "server.js"] {
        std::fs::copy(source.join(file), dir.join(file)).expect("copy the peer's files");
    }
    if !dir.join("node_modules/postgraphile").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("run npm (Node.js is needed for the peer)");
        assert!(status.success(), "npm install postgraphile failed");
    }
    Command::new("node")
        .args([
            "server.js",
            database_url,
            &port.to_string(),
            tenant,
            &POOL.to_string(),
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start PostGraphile")
}

fn numbers_as_text(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_text).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), numbers_as_text(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The gateway, services and projector run here with the allocator the `deedlog` binary ships
/// with, so that the peak resident memory is theirs as deployed (ADR 0042).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("a workspace")
        .to_owned();
    let cluster = TestCluster::start_all_with(|f| {
        f.merge(("gateway.rate_limit_per_user", 10_000_000))
            .merge(("gateway.rate_limit_per_ip", 10_000_000))
            // The budget gives the read-model pool 16 of 44, as many as
            // PostGraphile's pool.
            .merge(("database.max_connections", 44))
            .merge(("services.tenant_cache_ttl_ms", 1000))
    })
    .await;
    let mut clients = Clients::connect(&cluster).await;
    let admin = clients.register("bench").await;
    let agent = clients.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let seeded = Instant::now();
    let position = seed(&clients, &agent).await;
    cluster.wait_for_read_models(position).await;
    println!(
        "seeded {PROPERTIES} properties and {DEALS} deals in {:.1?}",
        seeded.elapsed()
    );

    let options = cluster.database_options();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("connect");
    sqlx::Executor::execute(&mut conn, PEER_VIEW)
        .await
        .expect("create the peer's view");
    // Statistics as autovacuum would have them on a live system; freshly
    // loaded tables without them get plans ten times slower (measured).
    sqlx::Executor::execute(
        &mut conn,
        "ANALYZE rm_properties.properties; ANALYZE rm_deals.deals",
    )
    .await
    .expect("analyze the read models");
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", cluster.database);
    let peer_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut peer = start_postgraphile(&root, &url, peer_port, &admin.tenant_id);
    let peer_url = format!("http://127.0.0.1:{peer_port}/graphql");
    let ours_url = format!("{}/graphql", cluster.url(Component::Gateway));

    let targets = [
        (
            "properties",
            Target::new(&ours_url, Some(&admin.access), OURS_PROPERTIES),
        ),
        (
            "pipeline",
            Target::new(&ours_url, Some(&admin.access), OURS_PIPELINE),
        ),
        (
            "board",
            Target::new(&ours_url, Some(&admin.access), OURS_BOARD),
        ),
        (
            "postgraphile_properties",
            Target::new(&peer_url, None, PEER_PROPERTIES),
        ),
        (
            "postgraphile_pipeline",
            Target::new(&peer_url, None, PEER_PIPELINE),
        ),
        (
            "postgraphile_board",
            Target::new(&peer_url, None, PEER_BOARD),
        ),
    ];
    // Both serve the same rows before anything is measured.
    let started = Instant::now();
    let peer_properties = loop {
        let answer = tokio::time::timeout(Duration::from_secs(5), targets[3].1.answer()).await;
        match answer {
            Ok(Some(answer)) if answer["data"].is_object() => break answer,
            _ if started.elapsed() > Duration::from_secs(120) => {
                panic!("PostGraphile did not start")
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    let ours = targets[0].1.answer().await.expect("the gateway answers");
    let ids = |v: &Value, path: &[&str]| -> Vec<Value> {
        let mut v = v;
        for p in path {
            v = &v[*p];
        }
        v.as_array()
            .into_iter()
            .flatten()
            .map(|e| e["node"]["propertyId"].clone())
            .collect()
    };
    assert_eq!(
        ids(&ours, &["data", "properties", "edges"]),
        ids(&peer_properties, &["data", "allProperties", "edges"]),
        "both list the same 20 properties"
    );
    let ours = targets[1].1.answer().await.expect("the gateway answers");
    let theirs = targets[4].1.answer().await.expect("PostGraphile answers");
    // PostGraphile writes bigint as strings, as the gateway writes its Int64
    // amounts; the gateway's counts are Int: compare the numbers as text.
    assert_eq!(
        numbers_as_text(&ours["data"]["pipeline"]),
        numbers_as_text(&theirs["data"]["allPipelineBoards"]["nodes"]),
        "both show the same board"
    );
    let ours = targets[2].1.answer().await.expect("the gateway answers");
    let theirs = targets[5].1.answer().await.expect("PostGraphile answers");
    let cards = |v: &Value| {
        numbers_as_text(
            &v["edges"]
                .as_array()
                .map(|edges| edges.iter().map(|e| e["node"].clone()).collect::<Vec<_>>())
                .into(),
        )
    };
    let (ours, theirs) = (
        cards(&ours["data"]["deals"]),
        cards(&theirs["data"]["allDeals"]),
    );
    assert_eq!(
        ours.as_array().map(Vec::len),
        Some(20),
        "a full page of cards"
    );
    assert_eq!(
        ours, theirs,
        "both show the same 20 cards with property and buyer"
    );

    let mut figures = serde_json::Map::new();
    for (name, target) in &targets {
        let (p50, p99, failures) = open_loop(target).await;
        let max = closed_loop(target).await;
        println!(
            "{name:<24} at {RATE}/s: p50 {p50:.2} ms, p99 {p99:.2} ms ({failures} failed); \
             {CLIENTS} clients: {max:.0} requests/s"
        );
        figures.insert(format!("{name}_p50_ms_at_1000"), json!(p50));
        figures.insert(format!("{name}_p99_ms_at_1000"), json!(p99));
        figures.insert(format!("{name}_max_rps"), json!(max));
        figures.insert(format!("{name}_failures"), json!(failures));
    }
    let _ = peer.kill();
    let _ = peer.wait();
    let rss = report::peak_rss_mb().expect("VmHWM");
    println!(
        "peak RSS of this process (gateway, services, projector and load generator): {rss:.1} MB"
    );
    figures.insert("peak_rss_mb".into(), json!(rss));
    figures.insert(
        "setup".into(),
        json!(format!(
            "{PROPERTIES} properties, {DEALS} deals; {CLIENTS} closed-loop clients; pool {POOL} \
             connections each; open loop {RATE}/s for {MEASURE:?} after {WARMUP:?}; peak RSS \
             is the whole bench process"
        )),
    );
    report::write("gateway", &Value::Object(figures));
    cluster.stop().await;
}
