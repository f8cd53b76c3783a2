//! A block's head: which positions the block covers, the Merkle root of
//! their leaves, the hash of the previous head (so heads form a chain and
//! no block can be dropped, reordered or re-sealed unnoticed) and when and
//! with which key it was signed. The signature is Ed25519 over the head's
//! hash (`docs/audit-proofs.md`).

use crate::merkle::Hash;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

const HEAD_TAG: &[u8] = b"deedlog.head.v1\0";

/// The previous head of the first block.
pub const GENESIS: Hash = [0; 32];

/// A block's head, as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The block's number, from 1.
    pub block: u64,
    /// The first and last position the block covers (every position in
    /// between is a leaf, absent or not).
    pub first_position: u64,
    pub last_position: u64,
    pub root: Hash,
    pub previous: Hash,
    pub sealed_at: DateTime<Utc>,
    pub key_id: String,
}

impl Head {
    /// The bytes that are hashed.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD_TAG.len() + 24 + 64 + 8 + 4 + self.key_id.len());
        out.extend_from_slice(HEAD_TAG);
        out.extend_from_slice(&self.block.to_be_bytes());
        out.extend_from_slice(&self.first_position.to_be_bytes());
        out.extend_from_slice(&self.last_position.to_be_bytes());
        out.extend_from_slice(&self.root);
        out.extend_from_slice(&self.previous);
        out.extend_from_slice(&self.sealed_at.timestamp_micros().to_be_bytes());
        let len = u32::try_from(self.key_id.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.key_id.as_bytes());
        out
    }

    /// The head's hash: what is signed, and what the next head chains to.
    pub fn hash(&self) -> Hash {
        Sha256::digest(self.bytes()).into()
    }
}

/// A head with its signature, and the hash stored beside it (a verifier
/// recomputes that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    pub head: Head,
    pub stored_hash: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The key heads are signed with (settings `sealing.key`).
#[derive(Clone)]
pub struct SealingKey {
    key: SigningKey,
    id: String,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey({})", self.id)
    }
}

impl SealingKey {
    /// From the 32-byte Ed25519 seed in base64; the error says what is wrong.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "is not base64".to_owned())?;
        let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "is {} bytes; an Ed25519 seed is 32 (`openssl rand -base64 32`)",
                bytes.len()
            )
        })?;
        Ok(Self::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(&key.verifying_key());
        Self { key, id }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
            id: self.id.clone(),
        }
    }

    /// The 32-byte seed in base64 (what `sealing.key` holds).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    pub fn sign(&self, head: &Head) -> [u8; 64] {
        self.key.sign(&head.hash()).to_bytes()
    }
}

/// A key heads are verified with: the sealing key's public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl PublicKey {
    /// From the 32-byte public key in base64.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "is not base64".to_owned())?;
        let raw: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("is {} bytes; an Ed25519 public key is 32", bytes.len()))?;
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|_| "is not an Ed25519 public key".to_owned())?;
        Ok(Self {
            id: key_id(&key),
            key,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    /// Whether `signature` is this key's over `head`.
    pub fn verifies(&self, head: &Head, signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(&head.hash(), &signature).is_ok()
    }
}

/// `ed25519:` and the first 16 hex digits of SHA-256 of the public key.
fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("ed25519:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            block: 1,
            first_position: 1,
            last_position: 10,
            root: [7; 32],
            previous: GENESIS,
            sealed_at: DateTime::from_timestamp_micros(1_700_000_000_000_000).expect("in range"),
            key_id: "ed25519:0011223344556677".into(),
        }
    }

    #[test]
    fn a_signed_head_verifies_with_its_public_key_only_and_unchanged() {
        let key = SealingKey::from_seed([3; 32]);
        let signature = key.sign(&head());
        let public = PublicKey::from_base64(&key.public().to_base64()).expect("public key");
        assert_eq!(public.id(), key.id());
        assert!(public.verifies(&head(), &signature));
        let other = SealingKey::from_seed([4; 32]).public();
        assert!(!other.verifies(&head(), &signature));
        for changed in [
            Head { block: 2, ..head() },
            Head {
                last_position: 11,
                ..head()
            },
            Head {
                root: [8; 32],
                ..head()
            },
            Head {
                previous: [1; 32],
                ..head()
            },
        ] {
            assert!(!public.verifies(&changed, &signature));
        }
    }

    #[test]
    fn malformed_keys_are_refused_with_the_reason() {
        assert_eq!(
            SealingKey::from_base64("%%").expect_err("refused"),
            "is not base64"
        );
        assert!(SealingKey::from_base64("AAAA")
            .expect_err("refused")
            .contains("an Ed25519 seed is 32"));
        let key =
            SealingKey::from_base64(&SealingKey::from_seed([9; 32]).to_base64()).expect("a seed");
        assert_eq!(key.id(), SealingKey::from_seed([9; 32]).id());
    }
}
