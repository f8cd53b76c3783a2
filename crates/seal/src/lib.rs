//! Tamper evidence for the log, the pure part (ADR 0037,
//! docs/audit-proofs.md): what a [`leaf`] is, [`merkle`] trees over a
//! block's leaves (RFC 9162 hashing), each block's [`head`] chained to the
//! previous one and signed with Ed25519, and the [`proof`] document an
//! outsider checks with the public key alone. The sealer and verification,
//! which read the log, are in `deedlog-sealer`.

pub mod consistency;
pub mod head;
pub mod leaf;
pub mod merkle;
pub mod proof;

pub use head::{Head, PublicKey, SealingKey, SignedHead};
