//! Projections benchmark: on a generated log of at least 1,000,000 events
//! (properties, deals, contacts), measures a full rebuild of every
//! projection, a rebuild of the properties list alone, a set-based SQL
//! rebuild of the properties list (the limit), and the commit-to-read-model
//! lag while commands arrive at 2,000 events/s. Writes
//! `target/bench/projections.json` at the workspace root.
//!
//! `DEEDLOG_BENCH_EVENTS` (default 1,000,000) and `DEEDLOG_BENCH_SECS`
//! (default 10, the lag phase) shorten a run.

mod history;

use chrono::{Duration as Days, TimeZone, Utc};
use deedlog_eventstore::{AppendRequest, EventStore, ExpectedVersion, LogReader};
use deedlog_kernel::{
    CausationId, CommandId, CommandMetadata, CorrelationId, StreamId, TenantId, UserId,
};
use deedlog_projector::projections::{self, properties::Properties};
use deedlog_projector::{rebuild, schema, Runner, RunnerOptions};
use history::{Rng, StreamHistory};
use sqlx::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const BENCH_DB: &str = "deedlog_bench_projections";
const TENANTS: usize = 10;
const WRITERS: usize = 4;
const LAG_RATE: u64 = 2_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn metadata(tenant: TenantId, actor: UserId, at: chrono::DateTime<Utc>) -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        tenant_id: tenant,
        actor: format!("user:{}", actor.as_uuid()),
        command_id: CommandId::from_uuid(id),
        correlation_id: CorrelationId::from_uuid(id),
        causation_id: CausationId::from_uuid(id),
        occurred_at: at,
        trace: None,
    }
}

/// The key service of the services and the projector, on `pool`.
async fn keyring(pool: &sqlx::PgPool) -> deedlog_privacy::Keyring {
    use deedlog_communications_domain::personal as contacts;
    use deedlog_tenancy_domain::personal as users;
    let catalogue = deedlog_privacy::Catalogue::new(
        &[contacts::PERSONAL, users::PERSONAL],
        &[contacts::FORGETTING, users::FORGETTING],
    );
    let limits = deedlog_privacy::CacheLimits {
        entries: 100_000,
        ttl: Duration::from_secs(60),
    };
    deedlog_privacy::Keyring::open(
        pool.clone(),
        deedlog_privacy::MasterSource::Development,
        catalogue,
        limits,
    )
    .await
    .expect("keyring")
}

/// `events` with their personal fields sealed, as a service appends them.
async fn sealed(
    store: &EventStore,
    tenant: TenantId,
    stream: StreamId,
    events: Vec<deedlog_eventstore::NewEvent>,
) -> Vec<deedlog_eventstore::NewEvent> {
    let keyring = store.keyring().expect("a keyring");
    let mut out = Vec::with_capacity(events.len());
    for mut event in events {
        if keyring.catalogue().personal(&event.event_type).is_some() {
            let mut payload: serde_json::Value =
                serde_json::from_str(event.payload.get()).expect("JSON");
            keyring
                .seal(
                    tenant.as_uuid(),
                    stream.as_uuid(),
                    &event.event_type,
                    &mut payload,
                )
                .await
                .expect("seal");
            event.payload = serde_json::value::to_raw_value(&payload).expect("JSON");
        }
        out.push(event);
    }
    out
}

/// Streams appended for the lag phase to keep writing to.
#[derive(Default)]
struct Sample {
    properties: Vec<(TenantId, StreamId, UserId)>,
}

#[tokio::main]
async fn main() {
    let target = env_u64("DEEDLOG_BENCH_EVENTS", 1_000_000);
    let lag_secs = env_u64("DEEDLOG_BENCH_SECS", 10);
    // Dropped at the end of the run, like a test's.
    let db = deedlog_testing::TestDb::named(BENCH_DB, 24).await;
    // Personal data sealed as the services store it, opened on every read
    // (ADR 0035): its cost is part of the figures.
    let keyring = keyring(&db.pool).await;
    let store = db
        .store
        .clone()
        .with_keyring(keyring.on_pool(db.store.app_pool().clone()));
    let reader = db
        .reader
        .clone()
        .with_keyring(keyring.on_pool(db.reader.pool().clone()));
    let pool = db.pool.clone();

    // The log.
    let mut tenants = Vec::new();
    for _ in 0..TENANTS {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        store.register_tenant(tenant).await.expect("tenant");
        let agents: Vec<UserId> = (0..5).map(|_| UserId::from_uuid(Uuid::now_v7())).collect();
        tenants.push((tenant, agents));
    }
    let tenants = Arc::new(tenants);
    let appended = Arc::new(AtomicU64::new(0));
    let sample = Arc::new(Mutex::new(Sample::default()));
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (store, tenants, appended, sample) = (
            store.clone(),
            tenants.clone(),
            appended.clone(),
            sample.clone(),
        );
        writers.spawn(async move {
            let mut rng = Rng::new(0x5eed + w as u64);
            let base = Utc
                .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
                .single()
                .expect("instant");
            let mut n = 0u64;
            while appended.load(Ordering::Relaxed) < target {
                let (tenant, agents) = &tenants[rng.below(TENANTS as u64) as usize];
                let at =
                    base + Days::minutes((n * WRITERS as u64 + w as u64) as i64 % (330 * 24 * 60));
                n += 1;
                let StreamHistory {
                    stream_type,
                    events,
                } = match rng.below(10) {
                    0..=3 => history::property(&mut rng, agents),
                    4..=6 => history::deal(&mut rng, agents),
                    _ => history::contact(&mut rng, at),
                };
                let count = events.len() as u64;
                let stream = StreamId::from_uuid(Uuid::now_v7());
                let events = sealed(&store, *tenant, stream, events).await;
                let agent = agents[0];
                let request = AppendRequest {
                    fingerprint: None,
                    stream_id: stream,
                    stream_type: stream_type.into(),
                    expected: ExpectedVersion::NoStream,
                    metadata: metadata(*tenant, agent, at),
                    events,
                };
                store.append(&request).await.expect("append a history");
                appended.fetch_add(count, Ordering::Relaxed);
                if stream_type == "property" {
                    let mut sample = sample.lock().expect("sample");
                    if sample.properties.len() < 20_000 {
                        sample.properties.push((*tenant, stream, agent));
                    }
                }
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let log_events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .expect("count");
    let property_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = 'property'")
            .fetch_one(&pool)
            .await
            .expect("count");
    println!(
        "log: {log_events} events ({property_events} of properties) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    checkpoint(&pool).await;
    let per_s = |secs: f64| log_events as f64 / secs;

    // 1. The properties list alone, rebuilt from zero and swapped in.
    let batch = 5_000;
    let started = Instant::now();
    rebuild::rebuild(&pool, &reader, Arc::new(Properties), batch, &mut |_| {})
        .await
        .expect("rebuild properties");
    let properties_secs = started.elapsed().as_secs_f64();
    println!(
        "rebuild properties: {:.1}s, {:.0} log events/s ({:.0} property events/s)",
        properties_secs,
        per_s(properties_secs),
        property_events as f64 / properties_secs
    );
    checkpoint(&pool).await;

    // 2. The limit: a set-based SQL rebuild of the same tables.
    let sql_secs = sql_rebuild(&pool).await;
    println!(
        "set-based SQL rebuild of the properties list: {:.1}s, {:.0} log events/s",
        sql_secs,
        per_s(sql_secs)
    );
    checkpoint(&pool).await;

    // 3. Every projection rebuilt at once (each reads the whole log).
    let started = Instant::now();
    let mut rebuilds = tokio::task::JoinSet::new();
    for projection in projections::all() {
        let (pool, reader) = (pool.clone(), reader.clone());
        rebuilds.spawn(async move {
            let name = projection.name();
            rebuild::rebuild(&pool, &reader, projection, batch, &mut |_| {})
                .await
                .unwrap_or_else(|e| panic!("rebuild {name}: {e}"));
        });
    }
    while let Some(done) = rebuilds.join_next().await {
        done.expect("rebuild task");
    }
    let all_secs = started.elapsed().as_secs_f64();
    println!(
        "rebuild of all {} projections: {:.1}s, {:.0} log events/s",
        projections::all().len(),
        all_secs,
        per_s(all_secs)
    );
    checkpoint(&pool).await;

    // 4. Lag from an append's commit to every projection having applied it.
    let sample = Arc::new(std::mem::take(&mut *sample.lock().expect("sample")));
    let (p50, p99, rate) = lag(&pool, &reader, &store, sample, lag_secs).await;
    println!("lag at {rate:.0} events/s: p50 {p50:.1} ms, p99 {p99:.1} ms");

    let json = serde_json::json!({
        "rebuild_all_events_per_s": per_s(all_secs),
        "rebuild_properties_events_per_s": per_s(properties_secs),
        "sql_limit_properties_events_per_s": per_s(sql_secs),
        "lag_p50_ms": p50,
        "lag_p99_ms": p99,
        "lag_events_per_s": rate,
        "log_events": log_events,
        "property_events": property_events,
        "rebuild_properties_property_events_per_s": property_events as f64 / properties_secs,
        "projections": projections::all().iter().map(|p| p.name()).collect::<Vec<_>>(),
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the workspace root");
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    std::fs::write(dir.join("projections.json"), format!("{json:#}\n")).expect("write json");
    pool.close().await;
}

async fn checkpoint(pool: &sqlx::PgPool) {
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .expect("checkpoint");
}

/// Rebuilds the properties list and its price history with a few
/// set-based statements straight from the log: the fastest PostgreSQL can
/// produce these rows, with no per-event logic at all (it skips tags,
/// valuations and archiving, so it is a generous limit).
async fn sql_rebuild(pool: &sqlx::PgPool) -> f64 {
    let aside = "rm_properties__sql";
    let mut conn = pool.acquire().await.expect("connection");
    schema::drop(&mut conn, aside).await.expect("drop");
    schema::create(&mut conn, &Properties, aside)
        .await
        .expect("create");
    let started = Instant::now();
    let statements = [
        "INSERT INTO rm_properties__sql.properties (property_id, tenant_id, street, postal_code, city, \
           country, latitude, longitude, kind, rooms, living_area_m2, asking_price_minor, currency, \
           listing_status, agent_id, tags, version, last_position, created_at, updated_at)
         WITH created AS (
           SELECT stream_id, tenant_id, payload::jsonb AS p, occurred_at FROM events
           WHERE stream_type = 'property' AND event_type = 'PropertyCreated'),
         last_price AS (
           SELECT DISTINCT ON (stream_id) stream_id, (payload::jsonb #>> '{to,amount_minor}')::bigint AS price
           FROM events WHERE event_type = 'AskingPriceChanged' ORDER BY stream_id, position DESC),
         last_status AS (
           SELECT DISTINCT ON (stream_id) stream_id, payload::jsonb ->> 'to' AS status
           FROM events WHERE event_type = 'ListingStatusChanged' ORDER BY stream_id, position DESC),
         last_event AS (
           SELECT stream_id, max(version) AS version, max(position) AS position, max(occurred_at) AS at
           FROM events WHERE stream_type = 'property' GROUP BY stream_id)
         SELECT c.stream_id, c.tenant_id, c.p #>> '{address,street}', c.p #>> '{address,postal_code}',
           c.p #>> '{address,city}', c.p #>> '{address,country}', (c.p #>> '{address,latitude}')::float8,
           (c.p #>> '{address,longitude}')::float8, c.p ->> 'kind', (c.p #>> '{attributes,rooms,value}')::int,
           (c.p #>> '{attributes,living_area_m2,value}')::int,
           coalesce(lp.price, (c.p #>> '{asking_price,amount_minor}')::bigint), c.p #>> '{asking_price,currency}',
           coalesce(ls.status, 'draft'), (c.p ->> 'agent')::uuid,
           ARRAY(SELECT jsonb_array_elements_text(c.p -> 'tags')), le.version, le.position, c.occurred_at, le.at
         FROM created c JOIN last_event le USING (stream_id)
         LEFT JOIN last_price lp USING (stream_id) LEFT JOIN last_status ls USING (stream_id)",
        "INSERT INTO rm_properties__sql.price_history
         SELECT tenant_id, stream_id, position, occurred_at, actor,
           (payload::jsonb #>> '{from,amount_minor}')::bigint,
           coalesce((payload::jsonb #>> '{to,amount_minor}')::bigint, (payload::jsonb #>> '{asking_price,amount_minor}')::bigint),
           coalesce(payload::jsonb #>> '{to,currency}', payload::jsonb #>> '{asking_price,currency}')
         FROM events WHERE event_type = 'AskingPriceChanged'
            OR (event_type = 'PropertyCreated' AND payload::jsonb -> 'asking_price' <> 'null'::jsonb)",
    ];
    let mut tx = conn.begin().await.expect("begin");
    for sql in statements {
        sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .expect("set-based rebuild");
    }
    tx.commit().await.expect("commit");
    let secs = started.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_properties__sql.properties")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_properties.properties")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(rows, live, "the SQL rebuild made every property row");
    schema::drop(&mut conn, aside).await.expect("drop");
    secs
}

/// Runs every projection live while appenders add `LAG_RATE` events/s
/// (1,000 appends/s of 2 events) to existing properties for `secs`; returns
/// p50 and p99 of the time from an append's return to the moment every
/// projection's checkpoint covered it, and the rate achieved.
async fn lag(
    pool: &sqlx::PgPool,
    reader: &LogReader,
    store: &EventStore,
    sample: Arc<Sample>,
    secs: u64,
) -> (f64, f64, f64) {
    let options = RunnerOptions {
        subscription: deedlog_eventstore::SubscriptionOptions {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
        },
        ..RunnerOptions::default()
    };
    let runner = Runner::new(projections::all(), pool.clone(), reader.clone(), options);
    let names: Vec<&'static str> = runner.stats().keys().copied().collect();
    let stats: Vec<_> = runner.stats().values().cloned().collect();
    let each = stats.clone();
    let stop_runner = CancellationToken::new();
    let running = tokio::spawn(runner.run_until_stopped(stop_runner.clone()));
    let min_position = move || stats.iter().map(|s| s.position()).min().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Seen: (position every projection has reached, when), and the same
    // for each projection on its own.
    let seen = Arc::new(Mutex::new(Vec::<(u64, Instant)>::new()));
    let seen_each = Arc::new(Mutex::new(vec![Vec::<(u64, Instant)>::new(); each.len()]));
    let stop_watch = CancellationToken::new();
    let watcher = {
        let (seen, seen_each, stop) = (seen.clone(), seen_each.clone(), stop_watch.clone());
        let min_position = min_position.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut last_each = vec![0; each.len()];
            while !stop.is_cancelled() {
                let now = min_position();
                if now > last {
                    seen.lock().expect("seen").push((now, Instant::now()));
                    last = now;
                }
                for (i, s) in each.iter().enumerate() {
                    let at = s.position();
                    if at > last_each[i] {
                        seen_each.lock().expect("seen")[i].push((at, Instant::now()));
                        last_each[i] = at;
                    }
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        })
    };
    let appends_per_s = LAG_RATE / 2;
    let workers = 32u64;
    let done = Arc::new(Mutex::new(Vec::<(u64, Instant)>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (store, sample, done) = (store.clone(), sample.clone(), done.clone());
        tasks.spawn(async move {
            let mut rng = Rng::new(0xa11 + w);
            let mut tick = tokio::time::interval(Duration::from_secs_f64(
                workers as f64 / appends_per_s as f64,
            ));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut price = 90_000_000i64;
            while Instant::now() < deadline {
                tick.tick().await;
                let (tenant, stream, agent) =
                    sample.properties[rng.below(sample.properties.len() as u64) as usize];
                let from = price;
                price -= 1_000;
                let events = vec![
                    encode(&deedlog_properties_domain::Event::AskingPriceChanged {
                        from: Some(eur(from)),
                        to: eur(price),
                    }),
                    encode(&deedlog_properties_domain::Event::TagAdded {
                        tag: format!("t{}", rng.below(5)),
                    }),
                ];
                let request = AppendRequest {
                    fingerprint: None,
                    stream_id: stream,
                    stream_type: "property".into(),
                    expected: ExpectedVersion::Any,
                    metadata: metadata(tenant, agent, Utc::now()),
                    events,
                };
                let outcome = store.append(&request).await.expect("append");
                done.lock()
                    .expect("done")
                    .push((outcome.last_position(), Instant::now()));
            }
        });
    }
    let started = Instant::now();
    while let Some(task) = tasks.join_next().await {
        task.expect("appender");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done = std::mem::take(&mut *done.lock().expect("done"));
    let head = done.iter().map(|d| d.0).max().unwrap_or(0);
    let wait = Instant::now();
    while min_position() < head && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop_watch.cancel();
    watcher.await.expect("watcher");
    stop_runner.cancel();
    running.await.expect("runner");
    let lags_of = |seen: &[(u64, Instant)]| {
        let mut lags: Vec<f64> = done
            .iter()
            .filter_map(|(position, at)| {
                let i = seen.partition_point(|(p, _)| p < position);
                seen.get(i)
                    .map(|(_, t)| t.saturating_duration_since(*at).as_secs_f64() * 1000.0)
            })
            .collect();
        assert_eq!(lags.len(), done.len(), "every append was seen applied");
        lags.sort_by(|a, b| a.total_cmp(b));
        let pick = |q: f64| lags[((lags.len() as f64 * q) as usize).min(lags.len() - 1)];
        (pick(0.50), pick(0.99))
    };
    for (name, seen) in names.iter().zip(seen_each.lock().expect("seen").iter()) {
        let (p50, p99) = lags_of(seen);
        println!("  lag of {name}: p50 {p50:.1} ms, p99 {p99:.1} ms");
    }
    let (p50, p99) = lags_of(&seen.lock().expect("seen"));
    (p50, p99, done.len() as f64 * 2.0 / elapsed)
}

fn encode<E: serde::Serialize + deedlog_kernel::DomainEvent>(
    event: &E,
) -> deedlog_eventstore::NewEvent {
    let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encode");
    deedlog_eventstore::NewEvent::new(event_type, 1, &payload).expect("serialise")
}

fn eur(minor: i64) -> deedlog_kernel::Money {
    deedlog_kernel::Money::new(minor, deedlog_kernel::Currency::new("EUR").expect("EUR"))
}
