//! The last known state and version of recently used records, so that a
//! command usually costs one round trip (the append) instead of two.
//!
//! The cache is only ever a guess: an append states the cached version and
//! the log refuses it when another writer (or another instance) got there
//! first; a refusal or no-op decided on a cached state is decided again on a
//! fresh read before it is answered. So a stale entry costs a retry, never a
//! wrong answer.

use deedlog_kernel::{StreamId, TenantId};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

type Entry = (Box<dyn Any + Send + Sync>, u64);

/// Records' states by tenant and stream, bounded in size.
#[derive(Debug)]
pub struct StateCache {
    capacity: usize,
    entries: Mutex<HashMap<(TenantId, StreamId), Entry>>,
}

impl StateCache {
    /// A cache of at most `capacity` records; 0 turns caching off.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::default(),
        }
    }

    /// The cached state and version of a record, if any (and of this type).
    pub fn get<S: Clone + 'static>(&self, tenant: TenantId, stream: StreamId) -> Option<(S, u64)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (state, version) = entries.get(&(tenant, stream))?;
        state.downcast_ref::<S>().map(|s| (s.clone(), *version))
    }

    /// Remembers a record's state at `version`.
    pub fn put<S: Send + Sync + 'static>(
        &self,
        tenant: TenantId,
        stream: StreamId,
        state: S,
        version: u64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Crude but bounded: when full, start over. Hot records come back at
        // the cost of one read each.
        if entries.len() >= self.capacity && !entries.contains_key(&(tenant, stream)) {
            entries.clear();
        }
        entries.insert((tenant, stream), (Box::new(state), version));
    }

    /// Forgets a record (its cached state proved stale).
    pub fn forget(&self, tenant: TenantId, stream: StreamId) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&(tenant, stream));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn ids(n: u128) -> (TenantId, StreamId) {
        (
            TenantId::from_uuid(Uuid::from_u128(1)),
            StreamId::from_uuid(Uuid::from_u128(n)),
        )
    }

    #[test]
    fn states_come_back_by_type_and_the_cache_stays_bounded() {
        let cache = StateCache::new(2);
        let (t, a) = ids(1);
        cache.put(t, a, 7u32, 3);
        assert_eq!(cache.get::<u32>(t, a), Some((7, 3)));
        assert_eq!(cache.get::<String>(t, a), None, "another type is a miss");
        cache.put(t, ids(2).1, 8u32, 1);
        cache.put(t, ids(3).1, 9u32, 1);
        assert_eq!(cache.get::<u32>(t, a), None, "full: started over");
        assert_eq!(cache.get::<u32>(t, ids(3).1), Some((9, 1)));
        cache.forget(t, ids(3).1);
        assert_eq!(cache.get::<u32>(t, ids(3).1), None);
        let off = StateCache::new(0);
        off.put(t, a, 1u32, 1);
        assert_eq!(off.get::<u32>(t, a), None);
    }
}
