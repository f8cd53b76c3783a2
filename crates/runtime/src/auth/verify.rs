//! Verifying tokens against the published public keys.

use super::{Audience, Caller, Claims, Error, Purpose, ALGORITHM, LEEWAY_SECS};
use deedlog_kernel::{TenantId, UserId};
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::VerifyingKey;
use jsonwebtoken::{DecodingKey, Validation};
use std::collections::HashMap;
use std::sync::Arc;

/// A public key a verifier accepts, as it is published (`/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationKey {
    pub kid: String,
    /// The raw 32-byte Ed25519 public key.
    pub ed25519: [u8; 32],
}

/// Verifies tokens against a set of public keys by key id.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Arc<HashMap<String, DecodingKey>>,
    /// The same keys, in the order given, for publishing: what is published
    /// is exactly what is accepted.
    published: Arc<Vec<VerificationKey>>,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for `(kid, public key PEM)` pairs.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
        audience: &Audience,
    ) -> Result<Self, Error> {
        let mut decoding = HashMap::new();
        let mut published: Vec<VerificationKey> = Vec::new();
        for (kid, pem) in keys {
            let raw = VerifyingKey::from_public_key_pem(pem)
                .map_err(|e| Error::Key(format!("public key {kid}: {e}")))?;
            // jsonwebtoken's "DER" for Ed25519 is the raw key: the bytes
            // checked are the bytes published.
            decoding.insert(kid.to_owned(), DecodingKey::from_ed_der(&raw.to_bytes()));
            // A key id given twice means its last key, as in the map above.
            match published.iter_mut().find(|k| k.kid == kid) {
                Some(known) => known.ed25519 = raw.to_bytes(),
                None => published.push(VerificationKey {
                    kid: kid.to_owned(),
                    ed25519: raw.to_bytes(),
                }),
            }
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&audience.issuer]);
        validation.set_audience(&[&audience.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            keys: Arc::new(decoding),
            published: Arc::new(published),
            validation,
        })
    }

    /// The keys tokens are checked with (the current signing key and the
    /// previous ones still accepted), in the order they were given.
    pub fn keys(&self) -> &[VerificationKey] {
        &self.published
    }

    /// Checks signature, algorithm, issuer, audience, expiry and purpose.
    pub fn verify(&self, token: &str, purpose: Purpose) -> Result<Caller, Error> {
        self.verify_with_expiry(token, purpose)
            .map(|(caller, _)| caller)
    }

    /// Like [`TokenVerifier::verify`], also returning the expiry (Unix seconds).
    pub fn verify_with_expiry(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<(Caller, i64), Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Error::Malformed)?;
        if header.alg != ALGORITHM {
            return Err(Error::WrongAlgorithm);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(Error::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => Error::Expired,
                ErrorKind::InvalidSignature => Error::BadSignature,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => Error::WrongAudience,
                ErrorKind::InvalidAlgorithm => Error::WrongAlgorithm,
                _ => Error::Malformed,
            }
        })?;
        let claims = data.claims;
        if claims.purpose != purpose.as_str() {
            return Err(Error::WrongPurpose(purpose.as_str()));
        }
        let caller = Caller {
            user: UserId::from_uuid(claims.sub),
            tenant: TenantId::from_uuid(claims.tid),
            role: claims.role.parse().map_err(|_| Error::UnknownRole)?,
        };
        Ok((caller, claims.exp))
    }

    /// Whether a token expiring at `expiry` (Unix seconds, as
    /// [`TokenVerifier::verify_with_expiry`] returned it) is still
    /// accepted now, with the same leeway as a verification.
    pub fn unexpired(&self, expiry: i64) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        u64::try_from(expiry).is_ok_and(|e| e.saturating_add(LEEWAY_SECS) >= now)
    }

    /// The bearer token in an `authorization` header value (the scheme's
    /// name is case-insensitive, RFC 7235 §2.1).
    pub fn bearer(header: Option<&str>) -> Result<&str, Error> {
        header
            .map(str::trim_start)
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or(Error::Missing)
    }
}
