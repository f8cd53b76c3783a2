//! The seed benchmark: `deedlog seed --tenants 20 --properties 200000` (the
//! real binary, its allocator included) on a fresh database, its resident
//! memory read from `/proc` every 200 ms until it exits. Writes
//! `target/bench/seed.json` and fails when the peak passes 500 MB.
//!
//! `DEEDLOG_BENCH_SEED_PROPERTIES` and `DEEDLOG_BENCH_SEED_TENANTS` run
//! another scale; `DEEDLOG_BIN` another binary (by default the release
//! build beside the bench: `cargo build --release --locked --bin deedlog`).

use deedlog_tests::process::{self, Memory};
use deedlog_tests::report;
use std::io::Read;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The most resident memory a seed of any size may take (issue 22).
const PEAK_LIMIT_MB: f64 = 500.0;
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// The number after `label` in the seed's summary (`commands        1234 sent`).
fn figure(summary: &str, label: &str) -> Option<f64> {
    let line = summary.lines().find(|l| l.starts_with(label))?;
    line[label.len()..].split_whitespace().next()?.parse().ok()
}

#[tokio::main]
async fn main() {
    let properties = report::env_or("DEEDLOG_BENCH_SEED_PROPERTIES", 200_000);
    let tenants = report::env_or("DEEDLOG_BENCH_SEED_TENANTS", 20);
    let binary = process::binary();
    let database = format!("deedlog_bench_seed_{}", Uuid::now_v7().simple());
    let (p, t) = (properties.to_string(), tenants.to_string());
    let args = ["seed", "--tenants", &t, "--properties", &p];
    println!("{} {}", binary.display(), args.join(" "));
    let started = Instant::now();
    let (mut child, mut stdout) =
        process::spawn_reading(process::deedlog(&binary, &database, &args));
    let printed = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("the seed's summary");
        out
    });
    let pid = child.id().to_string();
    let (mut peak, mut samples) = (
        Memory {
            now: 0.0,
            peak: 0.0,
        },
        Vec::new(),
    );
    let status = loop {
        if let Some(status) = child.try_wait().expect("the seed's status") {
            break status;
        }
        if let Some(memory) = process::memory(&pid) {
            peak = memory;
            samples.push((started.elapsed().as_secs_f64(), memory.now));
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let summary = printed.join().expect("the reader thread");
    assert!(status.success(), "deedlog seed failed: {status}\n{summary}");
    print!("{summary}");
    let commands = figure(&summary, "commands").expect("the summary counts commands");
    let events = figure(&summary, "events").expect("the summary counts events");
    // Every 5 s of the run, for the shape of the curve.
    let every = (5.0 / SAMPLE_EVERY.as_secs_f64()) as usize;
    let curve: Vec<[f64; 2]> = samples
        .iter()
        .step_by(every)
        .map(|(t, mb)| [t.round(), mb.round()])
        .collect();
    let json = serde_json::json!({
        "properties": properties,
        "tenants": tenants,
        "elapsed_s": elapsed,
        "commands": commands,
        "events": events,
        "commands_per_s": commands / elapsed,
        "peak_rss_mb": peak.peak,
        "peak_rss_limit_mb": PEAK_LIMIT_MB,
        "rss_mb_every_5s": curve,
        "binary": binary.display().to_string(),
    });
    println!("peak RSS (VmHWM) {:.1} MB over {elapsed:.1} s", peak.peak);
    report::write("seed", &json);
    process::drop_database(&database).await;
    assert!(
        peak.peak <= PEAK_LIMIT_MB,
        "the seed peaked at {:.0} MB, over {PEAK_LIMIT_MB} MB",
        peak.peak
    );
}
