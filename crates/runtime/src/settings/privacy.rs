//! Settings of personal data's encryption (ADR 0035, docs/privacy.md).

use super::{check_ranges, Error};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The master key and the data-key cache.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// 32 bytes in base64 (`openssl rand -base64 32`); wraps every data key.
    /// Development keeps a generated one in the database when absent;
    /// production refuses to start without it.
    #[serde(serialize_with = "super::redact::secret")]
    pub master_key: Option<SecretString>,
    /// A file holding that key, instead of the key itself.
    pub master_key_file: Option<String>,
    /// The master key being retired during a rotation: it only unwraps,
    /// until `deedlog privacy rotate-master-key` has rewrapped every key.
    #[serde(serialize_with = "super::redact::secret")]
    pub previous_master_key: Option<SecretString>,
    /// How many unwrapped data keys a process keeps in memory.
    pub key_cache_entries: u64,
    /// How long a cached data key is used before it is read again (another
    /// process's forgetting is seen within this time).
    pub key_cache_ttl_s: u64,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            master_key: None,
            master_key_file: None,
            previous_master_key: None,
            key_cache_entries: 100_000,
            key_cache_ttl_s: 60,
        }
    }
}

impl PrivacySettings {
    pub fn key_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.key_cache_ttl_s)
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        check_ranges(&[
            (
                "privacy.key_cache_entries",
                self.key_cache_entries,
                0,
                10_000_000,
            ),
            ("privacy.key_cache_ttl_s", self.key_cache_ttl_s, 1, 86_400),
        ])?;
        if self.master_key.is_some() && self.master_key_file.is_some() {
            return Err(Error::Invalid {
                key: "privacy.master_key_file",
                value: "set together with privacy.master_key".to_owned(),
                allowed: "one of privacy.master_key or privacy.master_key_file",
            });
        }
        Ok(())
    }
}
