//! The plateau benchmark: `deedlog up` (the real binary: every service, the
//! projector and the gateway in one process) under a steady load of 300
//! commands/s for 300 s, its resident memory read from `/proc` every 5 s.
//! Writes `target/bench/plateau.json` and fails unless the memory of the
//! second half grows by less than 10 MB: a long-running process under a
//! steady load levels off (an earlier 10-minute run held about 111 MB).
//! Two minutes were too short: on a busy machine a 120 s run still rose
//! from 60 to 106 MB between 40 s and 100 s, then fell back.
//!
//! `DEEDLOG_BENCH_PLATEAU_SECS` and `DEEDLOG_BENCH_PLATEAU_RATE` change the
//! run; `DEEDLOG_BIN` the binary (by default the release build beside the
//! bench: `cargo build --release --locked --bin deedlog`).

use deedlog_cluster::Component;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_proto::{communications::v1 as comms, deals::v1 as deals};
use deedlog_tests::fixtures::{consent, email, eur, listed_apartment, move_stage, reprice};
use deedlog_tests::process::{self, Memory};
use deedlog_tests::{clients::command, report, Clients, Session};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::Code;
use uuid::Uuid;

/// The most the second half may grow by, in MB.
const GROWTH_LIMIT_MB: f64 = 10.0;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Deals (each on a property of its own) and consenting buyers the load
/// goes round; new properties come on top.
const DEALS: usize = 100;
const BUYERS: usize = 300;

/// The records the load goes round, and what it has seen.
struct Load {
    clients: Clients,
    agent: Session,
    /// Properties with their deal, by turn.
    deals: Vec<(String, String)>,
    buyers: Vec<String>,
    /// Answers: served (accepted, or refused by a rule), and anything else.
    served: AtomicU64,
    errors: AtomicU64,
}

impl Load {
    /// Command `n` of the load: of every ten, a new property, two price
    /// changes, three stage moves and four emails.
    async fn send(&self, n: u64) {
        let (mut c, s) = (self.clients.clone(), &self.agent);
        let turn = (n / 10) as usize;
        let (property, deal) = &self.deals[turn % DEALS];
        let answer = match n % 10 {
            0 => c
                .properties
                .create_property(s.request(listed_apartment()))
                .await
                .map(drop),
            1 | 6 => {
                let price = eur(40_000_000 + (n % 1_000) as i64 * 100_000);
                c.properties
                    .change_asking_price(s.request(reprice(property, price)))
                    .await
                    .map(drop)
            }
            2 | 5 | 8 => {
                // Back and forth, so each move is one (or refused when two cross).
                let to = [deals::Stage::Qualified, deals::Stage::Lead][(turn / DEALS) % 2];
                c.deals
                    .move_stage(s.request(move_stage(deal, to)))
                    .await
                    .map(drop)
            }
            _ => {
                let buyer = &self.buyers[(n as usize) % BUYERS];
                let message = email(buyer, "Am Markt 3", "Die Besichtigung ist am Freitag.");
                c.communications
                    .send_message(s.request(message))
                    .await
                    .map(drop)
            }
        };
        match answer.map_or_else(|e| e.code(), |()| Code::Ok) {
            Code::Ok | Code::FailedPrecondition => self.served.fetch_add(1, Relaxed),
            _ => self.errors.fetch_add(1, Relaxed),
        };
    }
}

/// A buyer who consents to email, and for the first `DEALS` a property with a deal.
async fn prepare(mut c: Clients, s: Session, i: usize) -> (String, Option<(String, String)>) {
    let buyer = Uuid::now_v7().to_string();
    let details = comms::ContactDetails {
        name: format!("Käufer {i}"),
        email: format!("kaeufer{i}@example.com"),
        ..Default::default()
    };
    let create = comms::CreateContactRequest {
        command: command(),
        contact_id: buyer.clone(),
        details: Some(details),
    };
    let comms = &mut c.communications;
    comms
        .create_contact(s.request(create))
        .await
        .expect("a buyer");
    let consented = s.request(consent(&buyer, comms::Channel::Email));
    comms.grant_consent(consented).await.expect("consent");
    if i >= DEALS {
        return (buyer, None);
    }
    let created = c
        .properties
        .create_property(s.request(listed_apartment()))
        .await;
    let property = created.expect("a property").into_inner().record_id;
    let open = deals::OpenDealRequest {
        command: command(),
        property_id: property.clone(),
        buyer_contact_id: buyer.clone(),
        offer: eur(38_000_000),
        ..Default::default()
    };
    let deal = c.deals.open_deal(s.request(open)).await.expect("a deal");
    (buyer, Some((property, deal.into_inner().record_id)))
}

/// Growth over `points` (seconds, MB) by least squares: the slope times
/// their span, so one noisy sample at either end does not decide it.
fn fitted_growth(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mt, mm) = points
        .iter()
        .fold((0.0, 0.0), |(t, m), p| (t + p.0 / n, m + p.1 / n));
    let cov: f64 = points.iter().map(|(t, m)| (t - mt) * (m - mm)).sum();
    let var: f64 = points.iter().map(|(t, _)| (t - mt).powi(2)).sum();
    let span = points.last().map_or(0.0, |p| p.0) - points.first().map_or(0.0, |p| p.0);
    if var == 0.0 {
        0.0
    } else {
        cov / var * span
    }
}

#[tokio::main]
async fn main() {
    let secs = report::env_or("DEEDLOG_BENCH_PLATEAU_SECS", 300);
    let rate = report::env_or("DEEDLOG_BENCH_PLATEAU_RATE", 300);
    let binary = process::binary();
    let database = format!("deedlog_bench_plateau_{}", Uuid::now_v7().simple());
    let up = process::deedlog(&binary, &database, &["up", "--no-demo"]);
    let (mut child, urls) = process::start(up, "database");
    let pid = child.id().to_string();
    let mut clients = Clients::at(|c: Component| urls[&c.to_string()].clone());
    let admin = clients.register("plateau").await;
    let agent = clients.colleague(&admin, tenancy::Role::Agent, "pia").await;
    let settings = tenancy::SetCommunicationSettingsRequest {
        command: command(),
        time_zone: "UTC".into(),
        cadence_limit: 50,
        cadence_window_days: 1,
    };
    let set = clients
        .tenancy
        .set_communication_settings(admin.request(settings))
        .await;
    set.expect("communication settings");
    let mut prepared = JoinSet::new();
    for i in 0..BUYERS {
        prepared.spawn(prepare(clients.clone(), agent.clone(), i));
    }
    let (mut buyers, mut deals) = (Vec::new(), Vec::new());
    for (buyer, deal) in prepared.join_all().await {
        buyers.push(buyer);
        deals.extend(deal);
    }
    let load = Arc::new(Load {
        clients,
        agent,
        deals,
        buyers,
        served: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    println!(
        "{rate} commands/s for {secs} s against {}",
        binary.display()
    );
    let (start, period) = (Instant::now(), Duration::from_secs(1) / rate as u32);
    let (mut tasks, mut samples, mut next_sample) = (JoinSet::new(), Vec::new(), start);
    let mut peak = Memory {
        now: 0.0,
        peak: 0.0,
    };
    for n in 0..secs * rate {
        tokio::time::sleep_until(start + period * n as u32).await;
        let load = load.clone();
        tasks.spawn(async move { load.send(n).await });
        while let Some(done) = tasks.try_join_next() {
            done.expect("a command task panicked");
        }
        if Instant::now() >= next_sample {
            peak = process::memory(&pid).expect("deedlog up is running");
            let at = start.elapsed().as_secs_f64();
            println!("{at:6.1} s  {:7.1} MB", peak.now);
            samples.push((at, peak.now));
            next_sample += SAMPLE_EVERY;
        }
    }
    tasks.join_all().await;
    let elapsed = start.elapsed().as_secs_f64();
    let half = elapsed / 2.0;
    let (first, second): (Vec<_>, Vec<_>) = samples.iter().partition(|(t, _)| *t < half);
    let (first, second) = (fitted_growth(&first), fitted_growth(&second));
    let (served, errors) = (load.served.load(Relaxed), load.errors.load(Relaxed));
    let json = serde_json::json!({
        "rate_per_s": rate,
        "secs": secs,
        "commands_per_s": served as f64 / elapsed,
        "errors": errors,
        "peak_rss_mb": peak.peak,
        "last_rss_mb": peak.now,
        "growth_first_half_mb": first,
        "growth_second_half_mb": second,
        "growth_limit_mb": GROWTH_LIMIT_MB,
        "rss_mb_every_5s": samples.iter().map(|(t, mb)| [t.round(), *mb]).collect::<Vec<_>>(),
        "binary": binary.display().to_string(),
    });
    println!(
        "peak {:.1} MB; growth {first:.1} MB in the first half, {second:.1} MB in the second",
        peak.peak
    );
    report::write("plateau", &json);
    child.kill().expect("stop deedlog up");
    child.wait().expect("deedlog up's status");
    process::drop_database(&database).await;
    assert_eq!(errors, 0, "answers neither OK nor FAILED_PRECONDITION");
    assert!(
        second < GROWTH_LIMIT_MB,
        "memory grew {second:.1} MB in the second half: no plateau"
    );
}
