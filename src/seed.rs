//! `deedlog seed`: the command services started on free loopback ports,
//! the generator driven through them with a progress bar, and a summary of
//! what was made and how to sign in.

use crate::cli::SeedArgs;
use anyhow::Context;
use deedlog_cluster::{Cluster, Component};
use deedlog_runtime::settings::Settings;

/// Starts the command services on free loopback ports, seeds through them,
/// stops them and prints what was made and how to sign in.
pub async fn run(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    use deedlog_seed::{self as seed, Endpoints, Options, Progress};
    let mut settings = settings.clone();
    let free = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let services = &mut settings.services;
    services.tenancy_listen = free;
    services.properties_listen = free;
    services.deals_listen = free;
    services.communications_listen = free;
    services.metrics_listen = String::new();
    let cluster = Cluster::build(&settings, &Component::COMMAND_SERVICES, true).await?;
    let addr = |c| cluster.address(c).with_context(|| format!("{c} runs here"));
    let endpoints = Endpoints::at(
        addr(Component::Tenancy)?,
        addr(Component::Properties)?,
        addr(Component::Deals)?,
        addr(Component::Communications)?,
    );
    let log = deedlog_cluster::pools::log_reader(&settings).await?;
    let shutdown = deedlog_runtime::shutdown_on_signals();
    let running = tokio::spawn(cluster.run_until_stopped(shutdown.clone()));
    let options = Options {
        seed: args.seed,
        tenants: args.tenants,
        properties: args.properties,
        concurrency: usize::from(args.concurrency),
    };
    let progress = std::sync::Arc::new(Progress::default());
    let bar = seed_progress_bar(args.properties)?;
    let ticker = tokio::spawn(tick(bar.clone(), progress.clone()));
    let seeded = tokio::select! {
        seeded = seed::run(endpoints, &options, Some(&log), &progress) => seeded,
        () = shutdown.cancelled() => Err(anyhow::anyhow!(
            "interrupted; the same command resumes where this run stopped"
        )),
    };
    ticker.abort();
    bar.finish_and_clear();
    shutdown.cancel();
    running.await.context("the command services panicked")??;
    let summary = seeded?;
    print!("{}", describe_seed(&summary));
    Ok(())
}

/// The progress bar on standard error (hidden when that is not a terminal).
fn seed_progress_bar(properties: u64) -> anyhow::Result<indicatif::ProgressBar> {
    let bar = indicatif::ProgressBar::new(properties);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{wide_bar}] {human_pos}/{human_len} properties, {eta} left",
        )?
        .progress_chars("=> "),
    );
    Ok(bar)
}

/// Shows `progress` on `bar` five times a second.
async fn tick(bar: indicatif::ProgressBar, progress: std::sync::Arc<deedlog_seed::Progress>) {
    use std::sync::atomic::Ordering::Relaxed;
    let started = std::time::Instant::now();
    let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        every.tick().await;
        let commands = progress.commands.load(Relaxed);
        bar.set_position(progress.properties_done.load(Relaxed));
        bar.set_message(format!(
            "tenants {}/{}, {commands} commands ({:.0}/s)",
            progress.tenants_ready.load(Relaxed),
            progress.tenants.load(Relaxed),
            commands as f64 / started.elapsed().as_secs_f64().max(0.001),
        ));
    }
}

/// What a seed made, how to sign in, and how fast it went.
fn describe_seed(summary: &deedlog_seed::Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let users: usize = summary.tenants.iter().map(|t| t.agents.len() + 2).sum();
    let on_record: u64 = summary.tenants.iter().map(|t| t.on_record).sum();
    let _ = writeln!(
        out,
        "seeded {} tenants, {users} users and {} properties (seed {}) in {:.1} s",
        summary.tenants.len(),
        summary.properties,
        summary.seed,
        summary.elapsed.as_secs_f64()
    );
    for t in &summary.tenants {
        let _ = writeln!(
            out,
            "tenant {:<14} {:?}: admin {}, agents {}, {} properties",
            t.slug,
            t.name,
            t.admin,
            t.agents.join(" "),
            t.properties,
        );
    }
    let _ = writeln!(
        out,
        "password        {:?} for every user (provider reports come from mailer@<slug>.deedlog.example)",
        summary.password
    );
    let _ = writeln!(
        out,
        "commands        {} sent ({} already on record, {} messages refused by compliance as planned); \
         {} properties were already done",
        summary.commands, summary.duplicates, summary.refused, on_record
    );
    if let Some(events) = summary.events_appended {
        let _ = writeln!(out, "events          {events} appended");
    }
    let _ = writeln!(
        out,
        "throughput      {:.1} commands/s over {:.1} s",
        summary.commands_per_second(),
        summary.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "read models     built by the projector: `deedlog up` (or `deedlog serve projector`) catches up"
    );
    out
}
