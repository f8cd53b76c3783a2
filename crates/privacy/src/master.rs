//! The master key: it wraps every data key and is never stored in the
//! database (except the development key, see [`crate::keyring`]). Its id is
//! a fingerprint, stored next to each wrapped key, so the keyring knows
//! which master key (current or retired) unwraps which data key.

use crate::data_key::DataKey;
use crate::error::Error;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

const NONCE_LEN: usize = 12;

/// A 256-bit master key.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: std::sync::Arc<Aes256Gcm>,
    bytes: [u8; 32],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// The key from its base64 text (32 bytes, e.g. `openssl rand -base64 32`);
    /// `setting` names where it came from, for the error.
    pub fn from_base64(text: &str, setting: &str) -> Result<Self, Error> {
        let bytes = STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| Error::Setting {
                setting: setting.to_owned(),
                reason: "must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)"
                    .to_owned(),
            })?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"deedlog.master-key-id.v1\0")
            .chain_update(bytes)
            .finalize();
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            id,
            cipher: std::sync::Arc::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))),
            bytes,
        }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::from_bytes(random()?))
    }

    /// The key's fingerprint: 16 hex digits, safe to show and store.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key's bytes, only to store the development key.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key as base64 text (for `deedlog privacy rotate-master-key`'s output).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// Wraps a data key: nonce ‖ ciphertext, bound to its tenant, subject and id.
    pub(crate) fn wrap(&self, key: &DataKey, binding: &Binding) -> Result<Vec<u8>, Error> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let aad = binding.aad();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Crypto("wrap a data key"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Unwraps a data key, or `None` when this key did not wrap it (or the
    /// bytes were changed).
    pub(crate) fn unwrap(&self, wrapped: &[u8], binding: &Binding) -> Option<DataKey> {
        let (nonce, sealed) = wrapped.split_at_checked(NONCE_LEN)?;
        let aad = binding.aad();
        let bytes = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()?;
        DataKey::from_slice(&bytes)
    }
}

/// Whose data key a wrapped key is: a wrapped key moved to another row does not unwrap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding {
    pub tenant: Uuid,
    pub subject: Uuid,
    pub key_id: Uuid,
}

impl Binding {
    fn aad(&self) -> Vec<u8> {
        format!(
            "deedlog.data-key.v1\0{}\0{}\0{}",
            self.tenant, self.subject, self.key_id
        )
        .into_bytes()
    }
}

/// The master keys a process holds: the current one wraps new data keys;
/// retired ones only unwrap, until `rotate-master-key` has rewrapped them.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    current: MasterKey,
    retired: Vec<MasterKey>,
}

impl MasterKeys {
    pub fn new(current: MasterKey, retired: Vec<MasterKey>) -> Self {
        Self { current, retired }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The key with this id, current or retired.
    pub fn by_id(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id() == id)
    }
}

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::Crypto("draw random bytes"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            tenant: Uuid::from_u128(1),
            subject: Uuid::from_u128(2),
            key_id: Uuid::from_u128(3),
        }
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_master_and_binding() {
        let master = MasterKey::generate().expect("key");
        let other = MasterKey::generate().expect("key");
        let key = DataKey::generate().expect("key");
        let wrapped = master.wrap(&key, &binding()).expect("wrap");
        let unwrapped = master.unwrap(&wrapped, &binding()).expect("unwraps");
        assert_eq!(unwrapped.bytes(), key.bytes());
        assert!(other.unwrap(&wrapped, &binding()).is_none());
        let moved = Binding {
            subject: Uuid::from_u128(9),
            ..binding()
        };
        assert!(master.unwrap(&wrapped, &moved).is_none());
    }

    #[test]
    fn a_master_key_is_32_bytes_of_base64_and_the_error_names_the_setting() {
        let key = MasterKey::generate().expect("key");
        let again = MasterKey::from_base64(&key.to_base64(), "privacy.master_key").expect("parses");
        assert_eq!(again.id(), key.id());
        for bad in ["", "not base64!", "c2hvcnQ="] {
            let error = MasterKey::from_base64(bad, "privacy.master_key").expect_err(bad);
            assert!(error.to_string().contains("privacy.master_key"), "{error}");
            assert!(error.to_string().contains("32 bytes"), "{error}");
        }
    }
}
