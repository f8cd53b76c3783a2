//! Crypto-shredding of personal data (ADR 0035, docs/privacy.md).
//!
//! Each data subject (a contact, a user) has its own AES-256-GCM data key,
//! wrapped by a master key that lives in settings, never in the database.
//! A service seals the personal fields of an event before appending it
//! ([`Keyring::seal`]); every reader opens them ([`Keyring::open_events`]).
//! Forgetting a subject destroys its key in the transaction that appends
//! the forgetting event (the log's `forget_subject` trigger); from then on
//! its fields read as their erased form ([`deedlog_kernel::privacy::ERASED`])
//! in every past event, and history still replays.

mod blind_index;
mod catalogue;
mod data_key;
mod error;
mod keyring;
mod master;
pub mod sealed;

pub use blind_index::IndexKeys;
pub use catalogue::Catalogue;
pub use data_key::DataKey;
pub use error::Error;
pub use keyring::{CacheLimits, Keyring, MasterSource, StoredEvent};
pub use master::{MasterKey, MasterKeys};
