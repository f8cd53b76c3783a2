//! The commands benchmark: every command service in this one process, real gRPC over TCP,
//! one PostgreSQL. Phase A: 1,000 commands/s open loop, latency from each command's scheduled
//! send time. Phase B: 32 callers in closed loop. Writes `target/bench/commands.json`.

use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_proto::{communications::v1 as comms, deals::v1 as deals};
use deedlog_tests::fixtures::{consent, email, eur, listed_apartment, move_stage, reprice};
use deedlog_tests::report::{self, RATE};
use deedlog_tests::{clients::command, Clients, Session, TestCluster};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::{task::JoinSet, time::Instant};
use tonic::{Code, Status};
use uuid::Uuid;

const WARMUP: Duration = Duration::from_secs(3);
const MEASURE: Duration = Duration::from_secs(15);
const CALLERS: usize = 32;
const CONTACTS: usize = 2_000;
const DEALS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    CreateProperty,
    ChangeAskingPrice,
    MoveStage,
    SendMessage,
}
use Kind::*;
const KINDS: [Kind; 4] = [CreateProperty, ChangeAskingPrice, MoveStage, SendMessage];
/// Ten slots of `KINDS`: 4 messages, 3 stage moves, 2 price changes, 1 new property.
const CYCLE: [usize; 10] = [3, 2, 1, 3, 2, 0, 3, 2, 1, 3];

/// Per command type: the measured latencies, and how many of each status.
type Stats = BTreeMap<Kind, (Vec<Duration>, BTreeMap<String, usize>)>;

struct Ctx {
    clients: Clients,
    agent: Session,
    slot: AtomicUsize,
    turns: [AtomicUsize; 4],
    /// Each property, its deal and whether that deal stands at qualified (else lead).
    pool: Vec<(String, String, AtomicBool)>,
    contacts: Vec<String>,
    stats: Mutex<Stats>,
}

/// Sends the next command of the mix to the next record of its pool; records its status.
async fn execute(ctx: Arc<Ctx>, sent: Instant, measured: bool) {
    let kind = KINDS[CYCLE[ctx.slot.fetch_add(1, Relaxed) % CYCLE.len()]];
    let turn = ctx.turns[kind as usize].fetch_add(1, Relaxed);
    let (mut c, s) = (ctx.clients.clone(), &ctx.agent);
    let (property_id, deal_id, qualified) = &ctx.pool[turn % ctx.pool.len()];
    let call = async {
        match kind {
            CreateProperty => {
                let request = s.request(listed_apartment());
                c.properties.create_property(request).await.map(drop)
            }
            ChangeAskingPrice => {
                // Alternate per property so that every change is a change.
                let price = [43_000_000, 45_000_000][(turn / ctx.pool.len()) % 2];
                let request = s.request(reprice(property_id, eur(price)));
                c.properties.change_asking_price(request).await.map(drop)
            }
            MoveStage => {
                let at_qualified = qualified.load(Relaxed);
                let to = [deals::Stage::Qualified, deals::Stage::Lead][usize::from(at_qualified)];
                let request = s.request(move_stage(deal_id, to));
                let result = c.deals.move_stage(request).await.map(drop);
                // Refused, the deal already stood at `to`: either way it stands there now.
                if !matches!(&result, Err(e) if e.code() != Code::FailedPrecondition) {
                    qualified.store(!at_qualified, Relaxed);
                }
                result
            }
            SendMessage => {
                let request = s.request(email(
                    &ctx.contacts[turn % ctx.contacts.len()],
                    "Lindenstraße 5",
                    "The viewing is on Friday at 10:00. Bring your ID, please.",
                ));
                c.communications.send_message(request).await.map(drop)
            }
        }
    };
    let code = call.await.map_or_else(|e| e.code(), |()| Code::Ok);
    let latency = sent.elapsed();
    let mut stats = ctx.stats.lock().expect("stats lock");
    let (latencies, outcomes) = stats.entry(kind).or_default();
    *outcomes.entry(format!("{code:?}")).or_default() += 1;
    if measured {
        latencies.push(latency);
    }
}

fn pct(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Prints and empties the stats; returns every latency, sorted, and the
/// errors: outcomes neither accepted nor refused by a rule (FAILED_PRECONDITION).
fn summarize(title: &str, ctx: &Ctx) -> (Vec<Duration>, usize) {
    println!("{title} (latencies in ms)");
    let (mut all, mut errors) = (Vec::new(), 0);
    for (kind, (mut s, outcomes)) in std::mem::take(&mut *ctx.stats.lock().expect("stats lock")) {
        s.sort_unstable();
        all.extend_from_slice(&s);
        let (p50, p99, max, n) = (pct(&s, 0.5), pct(&s, 0.99), pct(&s, 1.0), s.len());
        let name = format!("{kind:?}");
        println!("  {name:<17} n={n:<5} p50 {p50:6.2} p99 {p99:6.2} max {max:7.2} {outcomes:?}");
        for (code, n) in &outcomes {
            errors += n * usize::from(!["Ok", "FailedPrecondition"].contains(&code.as_str()));
        }
    }
    all.sort_unstable();
    (all, errors)
}

/// Contact `i` with email consent and, for the first `DEALS`, a property
/// and a deal on it with that buyer.
async fn seed(mut c: Clients, s: Session, i: usize) -> Result<Vec<String>, Status> {
    let contact_id = Uuid::now_v7().to_string();
    let create = s.request(comms::CreateContactRequest {
        command: command(),
        contact_id: contact_id.clone(),
        details: Some(comms::ContactDetails {
            name: format!("Buyer {i}"),
            email: format!("buyer{i}@example.com"),
            ..Default::default()
        }),
    });
    c.communications.create_contact(create).await?;
    let consent = s.request(consent(&contact_id, comms::Channel::Email));
    c.communications.grant_consent(consent).await?;
    if i >= DEALS {
        return Ok(vec![contact_id]);
    }
    let request = s.request(listed_apartment());
    let property_id = c.properties.create_property(request).await?;
    let property_id = property_id.into_inner().record_id;
    let request = s.request(deals::OpenDealRequest {
        command: command(),
        property_id: property_id.clone(),
        buyer_contact_id: contact_id.clone(),
        offer: eur(40_000_000),
        ..Default::default()
    });
    let deal_id = c.deals.open_deal(request).await?.into_inner().record_id;
    Ok(vec![contact_id, property_id, deal_id])
}

/// The services run here with the allocator the `deedlog` binary ships
/// with, so that the peak resident memory is theirs as deployed (ADR 0042).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cluster = TestCluster::start_with(|f| {
        let f = f.merge(("services.tenant_cache_ttl_ms", 1000));
        // The command services alone: the budget gives appends 16 of 24
        // (and the log reader 8), the pool earlier runs measured with.
        f.merge(("database.max_connections", 24))
    })
    .await;
    let mut clients = Clients::connect(&cluster).await;
    let admin = clients.register("bench").await;
    let agent = clients.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let settings = admin.request(tenancy::SetCommunicationSettingsRequest {
        command: command(),
        time_zone: "UTC".into(),
        cadence_limit: 50,
        cadence_window_days: 1,
    });
    let set = clients.tenancy.set_communication_settings(settings).await;
    set.expect("communication settings");
    let mut seeders = JoinSet::new();
    for w in 0..16 {
        let (c, s) = (clients.clone(), agent.clone());
        seeders.spawn(async move {
            let mut seeded = Vec::new();
            for i in (w..CONTACTS).step_by(16) {
                seeded.push(seed(c.clone(), s.clone(), i).await.expect("seed the pools"));
            }
            seeded
        });
    }
    let (mut contacts, mut pool) = (Vec::new(), Vec::new());
    for mut ids in seeders.join_all().await.into_iter().flatten() {
        if let [_, property, deal] = &mut ids[..] {
            pool.push((std::mem::take(property), std::mem::take(deal), false.into()));
        }
        contacts.push(ids.swap_remove(0));
    }
    let mix = format!(
        "SendMessage 40%, MoveStage 30%, ChangeAskingPrice 20%, CreateProperty 10%; round-robin \
         over {DEALS} properties, {DEALS} deals (lead<->qualified), {CONTACTS} consenting contacts"
    );
    println!("mix: {mix}");
    let ctx = Arc::new(Ctx {
        clients,
        agent,
        slot: AtomicUsize::new(0),
        turns: Default::default(),
        pool,
        contacts,
        stats: Mutex::default(),
    });
    // Phase A: one command per slot, each spawned so that a slow one never delays the next.
    let period = Duration::from_secs(1) / RATE;
    let warm = WARMUP.as_secs() as u32 * RATE;
    let (start, mut tasks) = (Instant::now(), JoinSet::new());
    for i in 0..warm + MEASURE.as_secs() as u32 * RATE {
        let at = start + period * i;
        tokio::time::sleep_until(at).await;
        tasks.spawn(execute(ctx.clone(), at, i >= warm));
        while let Some(done) = tasks.try_join_next() {
            done.expect("a command task panicked");
        }
    }
    tasks.join_all().await;
    let end = start.elapsed();
    let title = format!("phase A: {RATE}/s open loop, {WARMUP:?}+{MEASURE:?}, all done {end:.1?}");
    let (lat, errors_a) = summarize(&title, &ctx);
    let (p50, p99, p999) = (pct(&lat, 0.5), pct(&lat, 0.99), pct(&lat, 0.999));
    // Phase B: each caller sends its next command when its last one returns.
    let (start, mut callers) = (Instant::now(), JoinSet::new());
    for _ in 0..CALLERS {
        let ctx = ctx.clone();
        callers.spawn(async move {
            while start.elapsed() < MEASURE {
                execute(ctx.clone(), Instant::now(), true).await;
            }
        });
    }
    callers.join_all().await;
    let secs = start.elapsed().as_secs_f64();
    let title = format!("phase B: {CALLERS} callers, closed loop, {secs:.1} s");
    let (done, errors_b) = summarize(&title, &ctx);
    let per_s = (done.len() - errors_b) as f64 / secs;
    let errors = errors_a + errors_b;
    let rss = report::peak_rss_mb().expect("VmHWM in /proc/self/status");
    println!("at {RATE}/s: p50 {p50:.2} ms, p99 {p99:.2} ms, p99.9 {p999:.2} ms");
    println!("{CALLERS} callers: {per_s:.0} commands/s (accepted or refused by a rule)");
    println!("peak RSS (VmHWM) {rss:.1} MB; errors (neither OK nor FAILED_PRECONDITION) {errors}");
    let json = serde_json::json!({
        "p50_ms_at_1000": p50, "p99_ms_at_1000": p99, "p999_ms_at_1000": p999,
        "max_commands_per_s_32": per_s, "peak_rss_mb": rss, "errors": errors, "mix": mix,
    });
    report::write("commands", &json);
    cluster.stop().await;
}
