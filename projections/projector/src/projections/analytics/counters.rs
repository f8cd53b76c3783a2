//! Additive aggregate rows (funnel, leaderboard, weekly counts): a batch
//! sums its deltas per key in memory, then loads the touched rows with one
//! statement, adds the deltas and writes each touched row back once.

use crate::projection::ApplyError;
use crate::rows;
use chrono::NaiveDate;
use deedlog_read_model::analytics::{FunnelRow, LeaderRow, MessageWeekRow, PriceChangeWeekRow};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A row of an aggregate table whose columns other than the key are
/// counts and sums that deltas add to.
pub trait Counter: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    const TABLE: &'static str;
    /// The table's primary-key columns.
    const KEY: &'static [&'static str];
    type Key: Ord;

    fn key(&self) -> Self::Key;
    /// Adds `other`'s counts (a row with the same key) to this row's.
    fn add(&mut self, other: &Self);
    /// Recomputes derived columns once everything is added.
    fn finish(&mut self) {}
    /// Whether the row counts nothing any more and is dropped.
    fn is_empty(&self) -> bool {
        false
    }
}

/// The deltas of one batch for one table, summed per key.
#[derive(Debug)]
pub struct Deltas<R: Counter>(BTreeMap<R::Key, R>);

impl<R: Counter> Default for Deltas<R> {
    fn default() -> Self {
        Deltas(BTreeMap::new())
    }
}

impl<R: Counter> Deltas<R> {
    /// Adds `row` to the delta of its key.
    pub fn add(&mut self, row: R) {
        match self.0.entry(row.key()) {
            Entry::Occupied(mut kept) => kept.get_mut().add(&row),
            Entry::Vacant(slot) => {
                slot.insert(row);
            }
        }
    }

    /// Adds the deltas to the stored rows: one statement loads the touched
    /// rows, one deletes them and one inserts their new versions (rows that
    /// count nothing any more are left out).
    pub async fn write(self, conn: &mut PgConnection) -> Result<(), ApplyError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let deltas: Vec<R> = self.0.into_values().collect();
        let stored: Vec<R> = rows::load_by(conn, R::TABLE, R::KEY, &deltas).await?;
        rows::delete_by(conn, R::TABLE, R::KEY, &deltas).await?;
        let mut merged: BTreeMap<R::Key, R> = stored.into_iter().map(|r| (r.key(), r)).collect();
        for delta in deltas {
            match merged.entry(delta.key()) {
                Entry::Occupied(mut kept) => kept.get_mut().add(&delta),
                Entry::Vacant(slot) => {
                    slot.insert(delta);
                }
            }
        }
        let written: Vec<R> = merged
            .into_values()
            .map(|mut row| {
                row.finish();
                row
            })
            .filter(|row| !row.is_empty())
            .collect();
        rows::insert(conn, R::TABLE, &written).await
    }
}

impl Counter for FunnelRow {
    const TABLE: &'static str = "funnel";
    const KEY: &'static [&'static str] = &["tenant_id", "stage"];
    type Key = (Uuid, String);

    fn key(&self) -> Self::Key {
        (self.tenant_id, self.stage.clone())
    }

    fn add(&mut self, other: &Self) {
        self.deals_reached = self.deals_reached.saturating_add(other.deals_reached);
        self.entries = self.entries.saturating_add(other.entries);
        self.exits = self.exits.saturating_add(other.exits);
        self.total_seconds = self.total_seconds.saturating_add(other.total_seconds);
    }

    /// The average stay, rounded down, over the stays that ended.
    fn finish(&mut self) {
        self.avg_seconds = (self.exits > 0).then(|| self.total_seconds / self.exits);
    }
}

impl Counter for LeaderRow {
    const TABLE: &'static str = "agent_leaderboard";
    const KEY: &'static [&'static str] = &["tenant_id", "agent_id", "currency"];
    type Key = (Uuid, Uuid, String);

    fn key(&self) -> Self::Key {
        (self.tenant_id, self.agent_id, self.currency.clone())
    }

    fn add(&mut self, other: &Self) {
        self.deals_won = self.deals_won.saturating_add(other.deals_won);
        self.won_volume_minor = self.won_volume_minor.saturating_add(other.won_volume_minor);
        self.commission_minor = self.commission_minor.saturating_add(other.commission_minor);
        self.deals_lost = self.deals_lost.saturating_add(other.deals_lost);
        self.open_deals = self.open_deals.saturating_add(other.open_deals);
    }

    /// An agent's row goes when none of their deals counts in it any more
    /// (reassigned away, or a deal's currency became known).
    fn is_empty(&self) -> bool {
        self.deals_won == 0
            && self.won_volume_minor == 0
            && self.commission_minor == 0
            && self.deals_lost == 0
            && self.open_deals == 0
    }
}

impl Counter for PriceChangeWeekRow {
    const TABLE: &'static str = "price_changes_by_week";
    const KEY: &'static [&'static str] = &["tenant_id", "week_start", "currency"];
    type Key = (Uuid, NaiveDate, String);

    fn key(&self) -> Self::Key {
        (self.tenant_id, self.week_start, self.currency.clone())
    }

    fn add(&mut self, other: &Self) {
        self.changes = self.changes.saturating_add(other.changes);
        self.decreases = self.decreases.saturating_add(other.decreases);
        self.increases = self.increases.saturating_add(other.increases);
        self.abs_change_minor = self.abs_change_minor.saturating_add(other.abs_change_minor);
    }
}

impl Counter for MessageWeekRow {
    const TABLE: &'static str = "messages_by_week";
    const KEY: &'static [&'static str] = &["tenant_id", "week_start", "channel"];
    type Key = (Uuid, NaiveDate, String);

    fn key(&self) -> Self::Key {
        (self.tenant_id, self.week_start, self.channel.clone())
    }

    fn add(&mut self, other: &Self) {
        self.sent = self.sent.saturating_add(other.sent);
        self.refused = self.refused.saturating_add(other.refused);
        self.delivered = self.delivered.saturating_add(other.delivered);
        self.opened = self.opened.saturating_add(other.opened);
        self.bounced = self.bounced.saturating_add(other.bounced);
        self.hard_bounced = self.hard_bounced.saturating_add(other.hard_bounced);
        self.replied = self.replied.saturating_add(other.replied);
    }
}
