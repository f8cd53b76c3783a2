//! What a previous run already did, read from the log as the log reader:
//! which planned commands are on record (so finished stories are skipped
//! without signing anyone in, and a repeated run appends nothing), and how
//! many events the log holds.

use anyhow::Context;
use deedlog_eventstore::LogReader;
use std::collections::HashSet;
use uuid::Uuid;

/// Command ids asked about per query.
const CHUNK: usize = 10_000;

/// The ones among `ids` that the log has handled.
pub async fn recorded(log: &LogReader, ids: &[Uuid]) -> anyhow::Result<HashSet<Uuid>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT command_id FROM commands WHERE command_id = ANY($1)")
                .bind(chunk)
                .fetch_all(log.pool())
                .await
                .context("look up which seeded commands are on record")?;
        found.extend(rows);
    }
    Ok(found)
}

/// How many events the log holds.
pub async fn events(log: &LogReader) -> anyhow::Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(log.pool())
        .await
        .context("count the events in the log")?;
    u64::try_from(count).context("the count of events is negative")
}
