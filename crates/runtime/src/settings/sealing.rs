//! Settings of the log's seals (ADR 0037, docs/audit-proofs.md).

use super::{check_ranges, Error};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The sealing key, the keys old heads verify with, and the sealer's pace.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SealingSettings {
    /// The Ed25519 key heads are signed with: its 32-byte seed in base64
    /// (`deedlog audit sealing-key` makes one). Development keeps a
    /// generated one in the database when absent; production refuses to
    /// start a sealer without it.
    #[serde(serialize_with = "super::redact::secret")]
    pub key: Option<SecretString>,
    /// A file holding that key, instead of the key itself.
    pub key_file: Option<String>,
    /// Public keys (32 bytes in base64) of earlier sealing keys: heads they
    /// signed still verify after a rotation.
    pub previous_public_keys: Vec<String>,
    /// Most positions in one block.
    pub block_size: u32,
    /// How often a caught-up sealer looks for new events.
    pub poll_interval_ms: u64,
    /// Where the sealer serves `/metrics` (seal lag); empty: nowhere.
    pub metrics_listen: String,
}

impl Default for SealingSettings {
    fn default() -> Self {
        Self {
            key: None,
            key_file: None,
            previous_public_keys: Vec::new(),
            block_size: 4096,
            poll_interval_ms: 200,
            metrics_listen: "127.0.0.1:9467".into(),
        }
    }
}

impl SealingSettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        check_ranges(&[
            ("sealing.block_size", u64::from(self.block_size), 1, 65_536),
            (
                "sealing.poll_interval_ms",
                self.poll_interval_ms,
                10,
                60_000,
            ),
        ])?;
        super::check_listen("sealing.metrics_listen", &self.metrics_listen)?;
        if self.key.is_some() && self.key_file.is_some() {
            return Err(Error::Invalid {
                key: "sealing.key_file",
                value: "set together with sealing.key".to_owned(),
                allowed: "one of sealing.key or sealing.key_file",
            });
        }
        Ok(())
    }
}
