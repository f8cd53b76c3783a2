//! The operator's subcommands on read models: rebuild, reconcile, dead
//! letters and lag. Each connects, does one thing, and reports in words.

use anyhow::Context;
use deedlog_cluster::pools::read_model_pool;
use deedlog_eventstore::LogReader;
use deedlog_projector::rebuild::Progress;
use deedlog_projector::{dead_letter, projections, reconcile, Projection};
use deedlog_runtime::settings::Settings;
use sqlx::PgPool;
use std::io::Write;
use std::sync::Arc;

/// Connections to the read models and the log.
struct Access {
    pool: PgPool,
    reader: LogReader,
}

async fn connect(settings: &Settings) -> anyhow::Result<Access> {
    let connect = deedlog_cluster::connect_options(settings)?;
    let pool = read_model_pool(settings, &connect).await?;
    let reader = deedlog_cluster::pools::log_reader(settings).await?;
    Ok(Access { pool, reader })
}

/// Prints a one-line progress bar to stderr.
fn progress_bar(label: &'static str) -> impl FnMut(Progress) {
    let mut last = std::time::Instant::now() - std::time::Duration::from_secs(1);
    move |p: Progress| {
        if last.elapsed().as_millis() < 200 && p.position < p.head {
            return;
        }
        last = std::time::Instant::now();
        let done = if p.head == 0 {
            1.0
        } else {
            (p.position as f64 / p.head as f64).min(1.0)
        };
        let filled = (done * 30.0) as usize;
        let left = p
            .remaining()
            .map(|d| format!("{:.0}s left", d.as_secs_f64()))
            .unwrap_or_default();
        eprint!(
            "\r{label} [{}{}] position {}/{} {:.0} events/s {left}   ",
            "#".repeat(filled),
            " ".repeat(30 - filled),
            p.position,
            p.head,
            p.events_per_s()
        );
        let _ = std::io::stderr().flush();
    }
}

/// Runs one pass of `pass` (rebuild or reconcile) over the whole log for the
/// projection `name`, drawing a progress bar labelled `verb` as it goes;
/// returns what the pass returned and how long it took.
async fn whole_log_pass<T>(
    settings: &Settings,
    name: &str,
    verb: &'static str,
    pass: impl AsyncFnOnce(
        &PgPool,
        &LogReader,
        Arc<dyn Projection>,
        u32,
        &mut (dyn FnMut(Progress) + Send),
    ) -> Result<T, deedlog_projector::Error>,
) -> anyhow::Result<(T, std::time::Duration)> {
    let projection = projections::by_name(name)?;
    let access = connect(settings).await?;
    let started = std::time::Instant::now();
    let done = pass(
        &access.pool,
        &access.reader,
        projection,
        settings.projector.rebuild_batch_size,
        &mut progress_bar(verb),
    )
    .await
    .with_context(|| format!("{verb} projection {name}"))?;
    eprintln!();
    Ok((done, started.elapsed()))
}

pub async fn rebuild(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let (position, took) = whole_log_pass(
        settings,
        name,
        "rebuild",
        deedlog_projector::rebuild::rebuild,
    )
    .await?;
    println!(
        "rebuilt {name} up to position {position} in {:.1}s and swapped it in",
        took.as_secs_f64()
    );
    Ok(())
}

pub async fn reconcile(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let (report, _) = whole_log_pass(settings, name, "reconcile", reconcile::reconcile).await?;
    for d in &report.differences {
        let columns = if d.columns.is_empty() {
            String::new()
        } else {
            format!(" {}", serde_json::Value::Object(d.columns.clone()))
        };
        println!(
            "{:<9} {}.{} {}{columns}",
            format!("{:?}", d.kind).to_lowercase(),
            name,
            d.table,
            serde_json::Value::Object(d.key.clone())
        );
    }
    println!(
        "reconciliation run {} of {name} at position {}: {} missing, {} extra, {} differing",
        report.run_id, report.position, report.missing, report.extra, report.differing
    );
    if report.is_clean() {
        Ok(())
    } else {
        anyhow::bail!(
            "projection {name} has drifted from the log; `deedlog rebuild {name}` repairs it"
        )
    }
}

pub async fn dlq_list(
    settings: &Settings,
    projection: Option<&str>,
    all: bool,
) -> anyhow::Result<()> {
    if let Some(name) = projection {
        projections::by_name(name)?;
    }
    let access = connect(settings).await?;
    let letters = dead_letter::list(&access.pool, projection, all).await?;
    if letters.is_empty() {
        println!("no {}dead letters", if all { "" } else { "pending " });
    }
    for l in letters {
        println!(
            "{:>6}  {:<10} {:<14} position {:<10} {:<24} {}  {}",
            l.id, l.status, l.projection, l.position, l.event_type, l.failed_at, l.error
        );
    }
    Ok(())
}

pub async fn dlq_replay(settings: &Settings, id: i64) -> anyhow::Result<()> {
    let access = connect(settings).await?;
    let letter = dead_letter::get(&access.pool, id).await?;
    let projection = projections::by_name(&letter.projection)?;
    let letter = dead_letter::replay(&access.pool, &access.reader, projection.as_ref(), id)
        .await
        .with_context(|| format!("replay dead letter {id}"))?;
    println!(
        "replayed dead letter {id}: {} at position {} applied to {}",
        letter.event_type, letter.position, letter.projection
    );
    Ok(())
}

pub async fn dlq_skip(settings: &Settings, id: i64) -> anyhow::Result<()> {
    let access = connect(settings).await?;
    let letter = dead_letter::skip(&access.pool, id).await?;
    println!(
        "skipped dead letter {id}: {} at position {} stays unapplied in {}",
        letter.event_type, letter.position, letter.projection
    );
    Ok(())
}

pub async fn status(settings: &Settings) -> anyhow::Result<()> {
    let access = connect(settings).await?;
    let lags =
        deedlog_projector::lag::lag(&access.pool, &access.reader, &projections::all()).await?;
    // Lag alone cannot show lost events: the last verification can.
    let verified = reconcile::latest(&access.pool).await?;
    println!(
        "{:<16} {:>12} {:>12} {:>10} {:>10} {:>12}  last verified",
        "projection", "position", "head", "behind", "seconds", "dead letters"
    );
    let mut drifted = Vec::new();
    for l in lags {
        let position = l
            .position
            .map_or_else(|| "not built".to_owned(), |p| p.to_string());
        let last = verified.iter().find(|run| run.projection == l.projection);
        let verdict = match last {
            None => "never".to_owned(),
            Some(run) if run.status == "drift" => {
                drifted.push(l.projection);
                format!(
                    "DRIFT: {} rows at {}",
                    run.drift_rows,
                    run.finished_at.format("%Y-%m-%d %H:%M")
                )
            }
            Some(run) => format!(
                "{} at {}",
                run.status,
                run.finished_at.format("%Y-%m-%d %H:%M")
            ),
        };
        println!(
            "{:<16} {:>12} {:>12} {:>10} {:>10.1} {:>12}  {verdict}",
            l.projection,
            position,
            l.head,
            l.behind_positions,
            l.behind_seconds,
            l.pending_dead_letters
        );
    }
    for name in drifted {
        eprintln!(
            "warning: {name} differed from the log at its last verification: `deedlog reconcile {name}` confirms, `deedlog rebuild {name}` repairs (docs/operations/drift.md)"
        );
    }
    Ok(())
}
