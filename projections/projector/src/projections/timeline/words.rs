//! The words shared by every context's summaries: users by name, money,
//! enumeration values, lists.

use super::names::Names;
use crate::projections::decode::name_of;
use deedlog_kernel::Money;
use serde::Serialize;
use uuid::Uuid;

/// What the words of an event may look up: users' names as known at its
/// position.
pub(crate) struct Words<'a> {
    names: &'a Names,
    tenant: Uuid,
    position: i64,
}

impl<'a> Words<'a> {
    pub(super) fn new(names: &'a Names, tenant: Uuid, position: i64) -> Self {
        Self {
            names,
            tenant,
            position,
        }
    }

    /// A user by display name, or `user <id>` when the name is not known.
    pub(crate) fn user(&self, user: Uuid) -> String {
        self.names
            .known(self.tenant, user, self.position)
            .map_or_else(|| format!("user {user}"), str::to_owned)
    }
}

/// A money amount as `450,000.00 EUR`.
pub(crate) fn money(value: &Money) -> String {
    value.to_string()
}

/// A stored enumeration value in words: `under_contract` → `under contract`.
pub(crate) fn words_of<T: Serialize>(value: &T) -> String {
    name_of(value).replace('_', " ")
}

/// Joins parts as `a, b and c`.
pub(crate) fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
