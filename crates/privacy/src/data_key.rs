//! A subject's data key: it seals that person's fields, and destroying it
//! is what forgets them.

use crate::error::Error;
use crate::master::random;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

pub(crate) const NONCE_LEN: usize = 12;

/// A 256-bit AES-GCM key with its expanded cipher, shared (the expanded
/// key is a kilobyte; the cache hands out clones).
#[derive(Clone)]
pub struct DataKey(std::sync::Arc<Expanded>);

struct Expanded {
    bytes: [u8; 32],
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub(crate) fn generate() -> Result<Self, Error> {
        Ok(Self::from_bytes(random()?))
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self::from_bytes)
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(std::sync::Arc::new(Expanded {
            bytes,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        }))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    /// Encrypts `plain` under a fresh random nonce; returns (nonce, ciphertext ‖ tag).
    pub(crate) fn seal(
        &self,
        plain: &[u8],
        aad: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), Error> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let sealed = self
            .0
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| Error::Crypto("seal a field"))?;
        Ok((nonce, sealed))
    }

    /// Decrypts, or `None` when the ciphertext, nonce or binding was changed.
    pub(crate) fn open(&self, nonce: &[u8], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if nonce.len() != NONCE_LEN {
            return None;
        }
        self.0
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .ok()
    }

    /// HMAC-SHA256 of `value` under this key, for a blind index.
    pub(crate) fn mac(&self, label: &str, value: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.bytes)
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}
