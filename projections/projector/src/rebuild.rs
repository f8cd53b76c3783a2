//! Rebuilding a projection aside from position zero while the live one
//! keeps serving, then swapping it in atomically.

use crate::checkpoint;
use crate::error::Error;
use crate::lease::Lease;
use crate::projection::{index_keys, Keys, Projection};
use crate::schema;
use crate::worker::{apply_in, Projector};
use deedlog_eventstore::{LogReader, SubscriptionOptions};
use deedlog_kernel::number::fit;
use sqlx::{Acquire, PgPool};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How far a rebuild has come.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Position applied so far.
    pub position: u64,
    /// The log's head when the rebuild started (it may grow meanwhile).
    pub head: u64,
    pub events: u64,
    pub elapsed: Duration,
}

impl Progress {
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Estimated time to reach `head`, by positions at the current rate.
    pub fn remaining(&self) -> Option<Duration> {
        let per_s = self.position as f64 / self.elapsed.as_secs_f64().max(1e-9);
        (per_s > 0.0).then(|| {
            Duration::from_secs_f64(self.head.saturating_sub(self.position) as f64 / per_s)
        })
    }
}

/// The highest position in the log now (0 when empty).
pub async fn log_head(reader: &LogReader) -> Result<u64, Error> {
    let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(reader.pool())
        .await
        .map_err(Error::db("read the log's head"))?;
    Ok(head.map(|h| fit("log head", h)).transpose()?.unwrap_or(0))
}

/// Builds `projection` into `aside` from position zero (up to `until`, or
/// until caught up), reporting progress after each batch.
pub async fn build_aside(
    pool: &PgPool,
    reader: &LogReader,
    projection: Arc<dyn Projection>,
    aside: &str,
    batch_size: u32,
    until: Option<u64>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<u64, Error> {
    let reader = &reader.opening_only(projection.opens());
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("prepare a rebuild"))?;
    schema::drop(&mut conn, aside).await?;
    schema::create_for_loading(&mut conn, projection.as_ref(), aside).await?;
    drop(conn);
    let options = SubscriptionOptions {
        batch_size,
        poll_interval: Duration::from_millis(100),
    };
    let projector = Projector::open(
        projection.clone(),
        pool.clone(),
        reader.clone(),
        aside.to_owned(),
        options,
    )
    .await?;
    let head = match until {
        Some(until) => until,
        None => log_head(reader).await?,
    };
    let position = run_ahead(projector, reader, batch_size, until, head, progress).await?;
    // Indexes built once over the loaded tables, and statistics for the
    // planner, before the tables serve queries.
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("analyze a rebuild"))?;
    schema::create_indexes(&mut conn, projection.as_ref(), aside).await?;
    for table in schema::tables(&mut conn, aside).await? {
        schema::script(
            &mut conn,
            &format!(
                "ANALYZE {}.{}",
                schema::ident(aside)?,
                schema::ident(&table)?
            ),
        )
        .await
        .map_err(Error::db("analyze a rebuild"))?;
    }
    Ok(position)
}

/// Applies the log to `projector` from its position to the head (or
/// `until`) while a task reads the next batches ahead, so that reading the
/// log and writing the read model overlap.
async fn run_ahead(
    mut projector: Projector,
    reader: &LogReader,
    batch_size: u32,
    until: Option<u64>,
    head: u64,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<u64, Error> {
    let (batches, mut next) = tokio::sync::mpsc::channel(2);
    let read_ahead = {
        let reader = reader.clone();
        let mut at = projector.position();
        tokio::spawn(async move {
            loop {
                let mut events = match reader.read_all(at, batch_size).await {
                    Ok(events) => events,
                    Err(error) => {
                        let _ = batches.send(Err(Error::from(error))).await;
                        return;
                    }
                };
                if let Some(until) = until {
                    events.retain(|e| e.position <= until);
                }
                // Empty: nothing (more) is safe to apply now; the caller is done.
                let Some(last) = events.last().map(|e| e.position) else {
                    let _ = batches.send(Ok(events)).await;
                    return;
                };
                at = last;
                if batches.send(Ok(events)).await.is_err() {
                    return;
                }
            }
        })
    };
    let started = Instant::now();
    let mut events = 0u64;
    let result = loop {
        let batch = match next.recv().await {
            Some(Ok(batch)) if !batch.is_empty() => batch,
            Some(Ok(_)) | None => break Ok(projector.position()),
            Some(Err(error)) => break Err(error),
        };
        let n = batch.len() as u64;
        match projector.apply_events(batch).await {
            Ok(_) => {}
            Err(error) => break Err(error),
        }
        events += n;
        progress(Progress {
            position: projector.position(),
            head,
            events,
            elapsed: started.elapsed(),
        });
    };
    read_ahead.abort();
    result
}

/// Brings `aside` up to the live schema's position inside the caller's
/// transaction, which holds the live checkpoint table locked exclusively,
/// and returns that position.
pub(crate) async fn catch_up_to_live(
    tx: &mut sqlx::PgConnection,
    reader: &LogReader,
    projection: &dyn Projection,
    aside: &str,
    batch_size: u32,
) -> Result<u64, Error> {
    let live = schema::live(projection.name());
    let live_at = if schema::exists(tx, &live).await? {
        schema::script(
            tx,
            &format!(
                "LOCK TABLE {}.{} IN EXCLUSIVE MODE",
                schema::ident(&live)?,
                schema::CHECKPOINT_TABLE
            ),
        )
        .await
        .map_err(Error::db("freeze the live projection"))?;
        checkpoint::read(tx, &live).await?.position
    } else {
        0
    };
    let mut at = checkpoint::read(tx, aside).await?.position;
    while at < live_at {
        // Up to a live checkpoint everything is resolved; waiting out a gap
        // here would wait for this very transaction.
        let events: Vec<_> = reader
            .read_settled(at, live_at, batch_size)
            .await?
            .into_iter()
            .filter(|e| e.position <= live_at)
            .collect();
        let Some(last) = events.last().map(|e| e.position) else {
            break;
        };
        // The key service's pool is the reader's, not the one `tx` holds.
        let index_keys = index_keys(reader.keyring(), &events).await?;
        apply_in(
            tx,
            projection,
            aside,
            (at, None),
            &events,
            Keys::new(index_keys.as_ref()),
        )
        .await?;
        at = last;
    }
    Ok(at.max(live_at))
}

/// Rebuilds `projection` aside and swaps it in; returns the position the
/// new live schema is at.
pub async fn rebuild(
    pool: &PgPool,
    reader: &LogReader,
    projection: Arc<dyn Projection>,
    batch_size: u32,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<u64, Error> {
    let name = projection.name();
    let lease = Lease::try_acquire(pool, &format!("rebuild.{name}"))
        .await?
        .ok_or_else(|| Error::RebuildRunning(name.to_owned()))?;
    let aside = schema::aside(name);
    build_aside(
        pool,
        reader,
        projection.clone(),
        &aside,
        batch_size,
        None,
        progress,
    )
    .await?;

    let context = "swap in the rebuilt projection";
    let mut conn = pool.acquire().await.map_err(Error::db(context))?;
    let mut tx = conn.begin().await.map_err(Error::db(context))?;
    let position =
        catch_up_to_live(&mut tx, reader, projection.as_ref(), &aside, batch_size).await?;
    let live = schema::live(name);
    // The rebuild applied every event afresh: the live schema's pending
    // letters are superseded, the rebuild's own become the live ones.
    sqlx::query(
        "UPDATE deedlog_read.dead_letters SET status = 'superseded', resolved_at = now() \
         WHERE schema_name = $1 AND status = 'pending'",
    )
    .bind(&live)
    .execute(&mut *tx)
    .await
    .map_err(Error::db(context))?;
    sqlx::query("UPDATE deedlog_read.dead_letters SET schema_name = $1 WHERE schema_name = $2")
        .bind(&live)
        .bind(&aside)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context))?;
    schema::swap_in_rebuild(&mut tx, name).await?;
    checkpoint::announce_change(&mut tx, &live).await?;
    tx.commit().await.map_err(Error::db(context))?;
    lease.release().await;
    tracing::info!(projection = name, position, "rebuilt projection swapped in");
    Ok(position)
}
