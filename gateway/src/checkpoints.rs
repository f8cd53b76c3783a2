//! The read models' checkpoints as this gateway knows them, kept by its
//! one LISTEN session: loaded each time the session (re)connects, then
//! moved by the changes the projector announces when its transactions
//! commit ([`deedlog_read_model::CHANGES_CHANNEL`]). The same session wakes
//! the subscriptions when the log grows ([`LogTicks`]).
//!
//! While the session is down, or before the checkpoints are loaded, the
//! state is unknown: the response cache is bypassed and read-your-writes
//! waits poll the database, as they would without it.

use crate::subscription::LogTicks;
use deedlog_read_model::{Change, Projection, CHANGES_CHANNEL};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// The log's NOTIFY channel (the event store's `notify::CHANNEL`).
const LOG_CHANNEL: &str = "deedlog_events";

/// How long a lost session waits before it connects again. Notices sent
/// meanwhile are lost, which is why the checkpoints are loaded again.
const RECONNECT: Duration = Duration::from_secs(1);

/// The read models' state as last heard of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Known {
    /// Counts every change heard of and every load: two equal values mean
    /// no read model changed in between, as far as this gateway can tell.
    pub version: u64,
    /// Each projection's checkpoint, in the order of [`Projection::ALL`].
    pub positions: [u64; Projection::ALL.len()],
}

impl Known {
    /// Whether every one of `projections` has applied the log up to `position`.
    pub fn reached(&self, projections: &[Projection], position: u64) -> bool {
        projections
            .iter()
            .all(|p| self.positions[index(*p)] >= position)
    }
}

fn index(projection: Projection) -> usize {
    Projection::ALL
        .iter()
        .position(|p| *p == projection)
        .expect("ALL holds every projection")
}

/// A handle on the known state; None while it is unknown.
#[derive(Debug, Clone)]
pub struct Checkpoints(watch::Receiver<Option<Known>>);

impl Checkpoints {
    /// Starts the LISTEN session on a connection of `pool` (the budget
    /// gives the gateway's pool one more for it) and the subscriptions'
    /// ticks it also delivers.
    pub fn start(pool: PgPool) -> (Self, LogTicks) {
        let (known, rx) = watch::channel(None);
        let (ticks, ticks_rx) = watch::channel(0u64);
        tokio::spawn(listen(pool, known, ticks));
        (Self(rx), LogTicks(ticks_rx))
    }

    /// The state now, if known.
    pub fn now(&self) -> Option<Known> {
        *self.0.borrow()
    }

    /// Waits, at most `timeout`, until `projections` are known to have
    /// reached `position`. True once they have; false when the time ran
    /// out or the state became unknown (the caller then asks the database).
    pub async fn wait_for(
        &self,
        projections: &[Projection],
        position: u64,
        timeout: Duration,
    ) -> bool {
        let mut rx = self.0.clone();
        let reached = tokio::time::timeout(
            timeout,
            rx.wait_for(|k| k.is_none_or(|k| k.reached(projections, position))),
        )
        .await;
        matches!(reached, Ok(Ok(k)) if k.is_some())
    }
}

/// Keeps `known` (and `ticks`) up to date for as long as anyone holds a
/// receiver and the pool is open.
async fn listen(pool: PgPool, known: watch::Sender<Option<Known>>, ticks: watch::Sender<u64>) {
    let mut version = 0u64;
    loop {
        if let Err(error) = session(&pool, &known, &ticks, &mut version).await {
            tracing::warn!(%error, "listen for read-model changes; the response cache is bypassed until it reconnects");
        }
        known.send_replace(None);
        if pool.is_closed() || (known.is_closed() && ticks.is_closed()) {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One LISTEN session: listens, then loads the checkpoints (so that no
/// change falls between the load and the first notice), then applies
/// every notice until the connection is lost.
async fn session(
    pool: &PgPool,
    known: &watch::Sender<Option<Known>>,
    ticks: &watch::Sender<u64>,
    version: &mut u64,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection ends the session, so that the state is reloaded.
    listener.eager_reconnect(false);
    listener.listen_all([CHANGES_CHANNEL, LOG_CHANNEL]).await?;
    let positions = load(pool).await?;
    *version += 1;
    known.send_replace(Some(Known {
        version: *version,
        positions,
    }));
    tracing::info!("read-model checkpoints loaded; the response cache serves");
    while let Some(notice) = listener.try_recv().await? {
        if notice.channel() == LOG_CHANNEL {
            ticks.send_modify(|n| *n += 1);
            continue;
        }
        let Some(change) = Change::parse(notice.payload()) else {
            continue;
        };
        *version += 1;
        let v = *version;
        known.send_modify(|k| {
            if let Some(k) = k {
                k.version = v;
                if let Some(position) = change.position {
                    let at = &mut k.positions[index(change.projection)];
                    *at = (*at).max(position);
                }
            }
        });
    }
    Ok(())
}

/// Every projection's checkpoint, read now.
async fn load(
    pool: &PgPool,
) -> Result<[u64; Projection::ALL.len()], Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = pool.acquire().await?;
    let mut positions = [0; Projection::ALL.len()];
    for (at, projection) in positions.iter_mut().zip(Projection::ALL) {
        *at = deedlog_read_model::freshness(&mut conn, projection).await?;
    }
    Ok(positions)
}
