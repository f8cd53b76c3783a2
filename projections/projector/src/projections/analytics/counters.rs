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

/// Adds `row` to the row of its key in `rows`, or keeps it as that row.
fn merge<R: Counter>(rows: &mut BTreeMap<R::Key, R>, row: R) {
    match rows.entry(row.key()) {
        Entry::Occupied(mut kept) => kept.get_mut().add(&row),
        Entry::Vacant(slot) => {
            slot.insert(row);
        }
    }
}

impl<R: Counter> Deltas<R> {
    /// Adds `row` to the delta of its key.
    pub fn add(&mut self, row: R) {
        merge(&mut self.0, row);
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
            merge(&mut merged, delta);
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

/// Implements [`Counter`] for a row: its table, its key columns (with
/// their types) and the columns that deltas add to; the rows that derive
/// columns or drop when empty add those methods in braces.
macro_rules! counter {
    (
        $row:ident in $table:literal,
        key: [$($key:ident: $key_type:ty),+],
        sums: [$($sum:ident),+]
        $(, { $($method:item)* })?
    ) => {
        impl Counter for $row {
            const TABLE: &'static str = $table;
            const KEY: &'static [&'static str] = &[$(stringify!($key)),+];
            type Key = ($($key_type,)+);

            fn key(&self) -> Self::Key {
                ($(Clone::clone(&self.$key),)+)
            }

            fn add(&mut self, other: &Self) {
                $(self.$sum = self.$sum.saturating_add(other.$sum);)+
            }

            $($($method)*)?
        }
    };
}

counter!(FunnelRow in "funnel",
    key: [tenant_id: Uuid, stage: String],
    sums: [deals_reached, entries, exits, total_seconds],
    {
        /// The average stay, rounded down, over the stays that ended.
        fn finish(&mut self) {
            self.avg_seconds = (self.exits > 0).then(|| self.total_seconds / self.exits);
        }
    }
);

counter!(LeaderRow in "agent_leaderboard",
    key: [tenant_id: Uuid, agent_id: Uuid, currency: String],
    sums: [deals_won, won_volume_minor, commission_minor, deals_lost, open_deals],
    {
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
);

counter!(PriceChangeWeekRow in "price_changes_by_week",
    key: [tenant_id: Uuid, week_start: NaiveDate, currency: String],
    sums: [changes, decreases, increases, abs_change_minor]
);

counter!(MessageWeekRow in "messages_by_week",
    key: [tenant_id: Uuid, week_start: NaiveDate, channel: String],
    sums: [sent, refused, delivered, opened, bounced, hard_bounced, replied]
);
