//! Blind indexes (ADR 0036): keyed hashes of personal values that a search
//! can match without the plaintext. Each tenant's hashes are under its own
//! index key (a data key whose subject is the tenant), so equal values
//! match within a tenant and nowhere else, and no hash is ever written to
//! the log: an erased person leaves none behind in it.

use crate::data_key::DataKey;
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// Tenants' index keys, fetched before a transaction needs them, so that
/// hashing does no I/O (a projector's batch hashes inside its transaction).
#[derive(Default)]
pub struct IndexKeys(pub(crate) HashMap<Uuid, DataKey>);

impl fmt::Debug for IndexKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexKeys({} tenants)", self.0.len())
    }
}

impl IndexKeys {
    /// The blind index of `value` (in its canonical form, e.g.
    /// `deedlog_kernel::contact_point`) for `label` in `tenant`: HMAC-SHA256
    /// under the tenant's index key, in lower-case hex. `None` when that
    /// tenant's key was not fetched.
    pub fn blind_index(&self, tenant: Uuid, label: &str, value: &str) -> Option<String> {
        let key = self.0.get(&tenant)?;
        Some(
            key.mac(label, value)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}
