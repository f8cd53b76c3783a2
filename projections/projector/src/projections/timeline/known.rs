//! A batch's copy of a small table keyed by a pair of ids (actors, scenario
//! names): the rows stored, and which of them the batch changed.

use std::collections::{HashMap, HashSet};
use uuid::Uuid;

type Key = (Uuid, Uuid);

pub(super) struct Known<R> {
    rows: HashMap<Key, R>,
    changed: HashSet<Key>,
}

impl<R> Known<R> {
    /// The stored `rows`, each under its `key`.
    pub(super) fn new(rows: Vec<R>, key: fn(&R) -> Key) -> Self {
        Self {
            rows: crate::rows::keyed(rows, key),
            changed: HashSet::new(),
        }
    }

    pub(super) fn get(&self, key: &Key) -> Option<&R> {
        self.rows.get(key)
    }

    /// The row of `key` (made by `new` when there is none), for a change
    /// at `position`, which it records as the row's `last_position` and
    /// as changed; `None` when the row is at or past `position` already
    /// (applied before: a replayed dead letter that had gone through).
    pub(super) fn change(
        &mut self,
        key: Key,
        position: i64,
        last_position: fn(&mut R) -> &mut i64,
        new: impl FnOnce() -> R,
    ) -> Option<&mut R> {
        let row = self.rows.entry(key).or_insert_with(new);
        if *last_position(row) >= position {
            return None;
        }
        *last_position(row) = position;
        self.changed.insert(key);
        Some(row)
    }

    /// The rows the batch changed, in key order.
    pub(super) fn changed_rows(&self) -> Vec<&R> {
        let mut keys: Vec<_> = self.changed.iter().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}
