//! Realistic data at scale, created through the real command services:
//! tenants (brokerages) with their users, and for every property a story of
//! listing, pricing, buyers, consents, messages and a deal, planned by a
//! pure generator ([`plan`], [`story`]) and sent over gRPC ([`drive`]).
//!
//! Every command id is a UUID v5 named after the seed, the tenant, the
//! property and the step, so an interrupted run resumes where it stopped
//! and a repeated one changes nothing: finished stories are skipped
//! without signing anyone in, and the services answer a repeated command
//! id with its first outcome.
//!
//! What a run holds is bounded by its concurrency, not by the number of
//! properties: stories are planned as they are sent, and the log is asked
//! which are finished a chunk of properties at a time ([`pending`]).

pub mod catalog;
pub mod demo;
pub mod drive;
mod listing;
mod names;
pub mod pending;
pub mod plan;
#[cfg(test)]
mod plan_tests;
mod random;
mod resume;
pub mod send;
pub mod session;
pub mod story;
mod wording;

pub use deedlog_client::Endpoints;

use anyhow::Context;
use deedlog_client::Clients;
use deedlog_eventstore::LogReader;
use futures::{StreamExt, TryStreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 1;
/// Stories sent at once when not told otherwise.
pub const DEFAULT_CONCURRENCY: u16 = 32;
/// Every seeded user's password.
pub const PASSWORD: &str = "deedlog-seed-password";
/// Tenants set up at once (each hashes a few passwords).
const SETUP_CONCURRENCY: usize = 4;

/// What to seed.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub tenants: u32,
    /// Properties in all, spread evenly over the tenants.
    pub properties: u64,
    /// Stories sent at once.
    pub concurrency: usize,
}

/// How far a run is, for a progress display; updated as it goes.
#[derive(Debug, Default)]
pub struct Progress {
    pub tenants: AtomicU64,
    pub tenants_ready: AtomicU64,
    pub properties: AtomicU64,
    /// Properties whose story is sent, or was on record already.
    pub properties_done: AtomicU64,
    /// Commands of stories sent (duplicates and refusals included).
    pub commands: AtomicU64,
    /// Commands the services had handled before.
    pub duplicates: AtomicU64,
    /// Messages compliance refused, as planned.
    pub refused: AtomicU64,
}

/// One seeded tenant, as an operator signs in to it.
#[derive(Debug, Clone)]
pub struct TenantSummary {
    pub slug: String,
    pub name: String,
    pub admin: String,
    pub agents: Vec<String>,
    pub mailer: String,
    pub properties: u64,
    /// Properties whose story a previous run had finished.
    pub on_record: u64,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub seed: u64,
    pub tenants: Vec<TenantSummary>,
    pub password: &'static str,
    pub properties: u64,
    pub commands: u64,
    pub duplicates: u64,
    pub refused: u64,
    /// Events the log gained, when the run could read the log.
    pub events_appended: Option<u64>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn commands_per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(0.001)
    }
}

/// Seeds through the services at `endpoints`. With `log`, stories already
/// on record are skipped and appended events are counted.
pub async fn run(
    endpoints: Endpoints,
    options: &Options,
    log: Option<&LogReader>,
    progress: &Progress,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let plans: Vec<Arc<plan::TenantPlan>> =
        plan::tenants(options.seed, options.tenants, options.properties)
            .into_iter()
            .map(Arc::new)
            .collect();
    progress
        .tenants
        .store(plans.len() as u64, Ordering::Relaxed);
    progress
        .properties
        .store(options.properties, Ordering::Relaxed);
    let services = Clients::connect(&endpoints).await?;
    let before = match log {
        Some(log) => Some(resume::events(log).await?),
        None => None,
    };
    let services = &services;
    // Each tenant looks up its stories on record until it finds one to
    // send: a tenant with none is skipped without signing anyone in.
    let mut prepared: Vec<(pending::Pending, Option<drive::Crew>)> =
        futures::stream::iter(plans.iter().cloned())
            .map(|tenant| async move {
                let mut pending = pending::Pending::new(tenant.clone());
                let crew = if pending.any(log, progress).await? {
                    let crew = drive::set_up(services, &tenant, PASSWORD)
                        .await
                        .with_context(|| format!("set up tenant {}", tenant.slug))?;
                    Some(crew)
                } else {
                    None
                };
                progress.tenants_ready.fetch_add(1, Ordering::Relaxed);
                anyhow::Ok((pending, crew))
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
    let work = prepared
        .iter_mut()
        .filter_map(|(pending, crew)| {
            Some(drive::Work {
                crew: crew.as_ref()?,
                pending,
            })
        })
        .collect();
    drive::stories(services, work, log, options.concurrency, progress).await?;
    let after = match log {
        Some(log) => Some(resume::events(log).await?),
        None => None,
    };
    let tenants = prepared
        .iter()
        .map(|(pending, _)| {
            let t = pending.tenant();
            TenantSummary {
                slug: t.slug.clone(),
                name: t.name.clone(),
                admin: t.admin.email.clone(),
                agents: t.agents.iter().map(|a| a.email.clone()).collect(),
                mailer: t.mailer.email.clone(),
                properties: t.properties,
                on_record: pending.on_record(),
            }
        })
        .collect();
    Ok(Summary {
        seed: options.seed,
        tenants,
        password: PASSWORD,
        properties: options.properties,
        commands: progress.commands.load(Ordering::Relaxed),
        duplicates: progress.duplicates.load(Ordering::Relaxed),
        refused: progress.refused.load(Ordering::Relaxed),
        events_appended: before.zip(after).map(|(b, a)| a.saturating_sub(b)),
        elapsed: started.elapsed(),
    })
}
