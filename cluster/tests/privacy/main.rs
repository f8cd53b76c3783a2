//! deedlog-privacy against a real PostgreSQL: keys in the log's key table,
//! sealing and opening through the event store, the forgetting trigger,
//! the master key's checks and rotation, damage, and the key table's
//! permissions. Each test has a database of its own.

mod forgetting;
mod keys;
mod master;
mod support;
mod trigger_sql;
