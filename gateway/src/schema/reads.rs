//! Reading on behalf of a caller: a tenant scope per resolver (row-level
//! security does the filtering) and waiting for the read models to reach a
//! position (read-your-writes).

use crate::error::{bad_input, from_read, not_found};
use crate::viewer::{allowed, Viewer};
use async_graphql::{Context, Result};
use deedlog_kernel::Role;
use deedlog_read_model::{Projection, TenantScope};
use sqlx::PgPool;
use std::time::Duration;

/// The read-model database, as the schema's data.
#[derive(Debug, Clone)]
pub struct Reads {
    pub pool: PgPool,
    /// The longest wait a client may ask for.
    pub max_wait: Duration,
    /// Counts the transactions begun (exported as a metric).
    pub transactions: prometheus_client::metrics::counter::Counter,
    /// The read models' checkpoints as last announced.
    pub checkpoints: crate::checkpoints::Checkpoints,
}

/// A read-only transaction bound to the viewer's tenant.
pub async fn scope(ctx: &Context<'_>, viewer: &Viewer) -> Result<TenantScope> {
    let reads = ctx.data::<Reads>()?;
    reads.transactions.inc();
    TenantScope::begin(&reads.pool, viewer.caller.tenant.as_uuid())
        .await
        .map_err(from_read)
}

/// A tenant scope for a viewer whose role may read records; FORBIDDEN,
/// naming `what`, for one whose role may not.
pub async fn record_scope(ctx: &Context<'_>, what: &str) -> Result<TenantScope> {
    scope(ctx, allowed(ctx, Role::may_read_records, what)?).await
}

/// The record a read found, wrapped for the schema; NOT_FOUND, naming
/// `what`, when there is none.
pub fn found<R, T>(
    read: Result<Option<R>, deedlog_read_model::Error>,
    what: &str,
    wrap: fn(R) -> T,
) -> Result<T> {
    read.map_err(from_read)?
        .map(wrap)
        .ok_or_else(|| not_found(what))
}

/// Waits until `projections` have applied the log up to `position`, at
/// most `timeout_ms` (bounded by the configured maximum).
pub async fn wait_for(
    ctx: &Context<'_>,
    projections: &[Projection],
    position: u64,
    timeout_ms: Option<u32>,
) -> Result<()> {
    let reads = ctx.data::<Reads>()?;
    let timeout = match timeout_ms {
        Some(ms) => {
            let asked = Duration::from_millis(ms.into());
            if asked > reads.max_wait {
                return Err(bad_input(format!(
                    "timeoutMs may be at most {} ms",
                    reads.max_wait.as_millis()
                )));
            }
            asked
        }
        None => reads.max_wait,
    };
    // Waiting on the announced checkpoints costs the database nothing, and
    // a read after it is keyed in the response cache by checkpoints that
    // reached the position. When they are unknown, or the time ran out,
    // the database says (the latter with the positions reached).
    let started = std::time::Instant::now();
    if reads
        .checkpoints
        .wait_for(projections, position, timeout)
        .await
    {
        return Ok(());
    }
    let left = timeout.saturating_sub(started.elapsed());
    deedlog_read_model::wait_for(&reads.pool, projections, position, left)
        .await
        .map_err(from_read)
}
