//! `GET /.well-known/jwks.json`: the public keys access tokens are checked
//! with, as a JSON Web Key Set (RFC 7517, Ed25519 keys as in RFC 8037), so
//! other services and standard JOSE libraries verify deedlog's tokens
//! without being handed PEM files (ADR 0019).
//!
//! The set is the gateway's own verifier's keys: the current signing key and
//! the previous ones still accepted. What is published is what is accepted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use deedlog_runtime::auth::VerificationKey;
use serde::Serialize;

/// Clients may keep the set five minutes; one that meets a token with an
/// unknown `kid` refetches it (what JOSE libraries do).
pub const CACHE_CONTROL: &str = "public, max-age=300";

/// A JWK Set: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Always `OKP` (octet key pair).
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
    pub kid: String,
    /// Always `EdDSA`: the one algorithm deedlog signs with.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: &'static str,
}

impl JwkSet {
    /// The set of `keys`, in their order.
    pub fn of(keys: &[VerificationKey]) -> Self {
        Self {
            keys: keys.iter().map(Jwk::of).collect(),
        }
    }
}

impl Jwk {
    /// The JWK of one verification key.
    pub fn of(key: &VerificationKey) -> Self {
        Self {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(key.ed25519),
            kid: key.kid.clone(),
            alg: "EdDSA",
            key_use: "sig",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 8037 appendix A.2: the public key of its example Ed25519 key.
    #[test]
    fn a_key_serialises_as_in_rfc_8037() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let ed25519: [u8; 32] = URL_SAFE_NO_PAD
            .decode(x)
            .expect("the RFC's x is base64url")
            .try_into()
            .expect("the RFC's key has 32 bytes");
        let keys = [
            VerificationKey {
                kid: "current".into(),
                ed25519,
            },
            VerificationKey {
                kid: "previous".into(),
                ed25519: [0xff; 32],
            },
        ];
        let set = serde_json::to_value(JwkSet::of(&keys)).expect("serialises");
        assert_eq!(
            set,
            json!({"keys": [
                {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "current", "alg": "EdDSA", "use": "sig"},
                {"kty": "OKP", "crv": "Ed25519", "x": "_".repeat(42) + "8", "kid": "previous", "alg": "EdDSA", "use": "sig"},
            ]})
        );
    }
}
