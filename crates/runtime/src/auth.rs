//! Signed access tokens (JWT, EdDSA): tenancy issues them with its private
//! key; every other part verifies them with the public keys, pinning the
//! algorithm, issuer, audience, expiry and key id. Nothing here trusts a
//! token's own header beyond picking which known key to check it with.

use chrono::{DateTime, Utc};
use deedlog_kernel::{Role, TenantId, UserId};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The one algorithm deedlog signs and accepts.
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;
const LEEWAY_SECS: u64 = 5;

/// The gRPC metadata in which the gateway names the client (browser) it
/// calls `Login` for; tenancy believes it only from a peer listed in
/// `services.trusted_proxies` and throttles failed logins by it.
pub const CLIENT_ADDRESS_HEADER: &str = "x-deedlog-client-addr";

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The tenant the user belongs to.
    pub tid: Uuid,
    pub role: String,
    /// `access` or `invitation`: a token is good for one purpose only.
    pub purpose: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique id of this token.
    pub jti: Uuid,
}

/// The purposes a token can be issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Access,
    Invitation,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Access => "access",
            Purpose::Invitation => "invitation",
        }
    }
}

/// A verified caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub tenant: TenantId,
    pub role: Role,
}

impl Caller {
    /// The actor name recorded in events, e.g. `user:0192…`.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user)
    }
}

/// Why a token was not accepted. The messages are safe to show a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no bearer token: send `authorization: Bearer <access token>`")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token is not signed with EdDSA")]
    WrongAlgorithm,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is for another issuer or audience")]
    WrongAudience,
    #[error("the token is not an {0} token")]
    WrongPurpose(&'static str),
    #[error("the token names an unknown role")]
    UnknownRole,
    #[error("invalid signing key: {0}")]
    Key(String),
}

/// An Ed25519 key pair and its key id.
#[derive(Clone)]
pub struct KeyPair {
    pub kid: String,
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh random key pair (development, tests, `deedlog keys generate`).
    pub fn generate(kid: Option<String>) -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| Error::Key(e.to_string()))?;
        let signing = SigningKey::from_bytes(&seed);
        Ok(Self::with_kid(signing, kid))
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(pem: &SecretString, kid: Option<String>) -> Result<Self, Error> {
        let signing = SigningKey::from_pkcs8_pem(pem.expose_secret())
            .map_err(|e| Error::Key(format!("not an Ed25519 PKCS#8 PEM private key ({e})")))?;
        Ok(Self::with_kid(signing, kid))
    }

    fn with_kid(signing: SigningKey, kid: Option<String>) -> Self {
        // The default id names the key by its public half, so it is stable
        // across restarts and distinct across keys.
        let kid = kid.unwrap_or_else(|| {
            let public = signing.verifying_key().to_bytes();
            let hex: String = public[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("ed25519-{hex}")
        });
        Self { kid, signing }
    }

    /// The private key as PKCS#8 PEM.
    pub fn private_pem(&self) -> Result<SecretString, Error> {
        let pem = self
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?;
        Ok(SecretString::from(pem.to_string()))
    }

    /// The public key as SubjectPublicKeyInfo PEM: what verifiers are given.
    pub fn public_pem(&self) -> Result<String, Error> {
        self.signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))
    }
}

/// Who tokens are for: the issuer and audience every token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub issuer: String,
    pub audience: String,
}

/// Signs tokens (tenancy only).
#[derive(Clone)]
pub struct TokenIssuer {
    kid: String,
    key: EncodingKey,
    audience: Audience,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(pair: &KeyPair, audience: Audience) -> Result<Self, Error> {
        let pem = pair.private_pem()?;
        let key = EncodingKey::from_ed_pem(pem.expose_secret().as_bytes())
            .map_err(|e| Error::Key(e.to_string()))?;
        Ok(Self {
            kid: pair.kid.clone(),
            key,
            audience,
        })
    }

    /// Signs a token for `caller` valid from `now` until `expires_at`.
    pub fn issue(
        &self,
        caller: &Caller,
        purpose: Purpose,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        jti: Uuid,
    ) -> Result<String, Error> {
        let claims = Claims {
            sub: caller.user.as_uuid(),
            tid: caller.tenant.as_uuid(),
            role: caller.role.as_str().to_owned(),
            purpose: purpose.as_str().to_owned(),
            iss: self.audience.issuer.clone(),
            aud: self.audience.audience.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti,
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| Error::Key(e.to_string()))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn audience() -> Audience {
        Audience {
            issuer: "deedlog".into(),
            audience: "deedlog".into(),
        }
    }

    fn setup() -> (KeyPair, TokenIssuer, TokenVerifier, Caller) {
        let pair = KeyPair::generate(Some("k1".into())).expect("key");
        let issuer = TokenIssuer::new(&pair, audience()).expect("issuer");
        let public = pair.public_pem().expect("public");
        let verifier =
            TokenVerifier::new([("k1", public.as_str())], &audience()).expect("verifier");
        let caller = Caller {
            user: UserId::from_uuid(Uuid::from_u128(1)),
            tenant: TenantId::from_uuid(Uuid::from_u128(2)),
            role: Role::Agent,
        };
        (pair, issuer, verifier, caller)
    }

    fn issue(issuer: &TokenIssuer, caller: &Caller, purpose: Purpose) -> String {
        let now = Utc::now();
        issuer
            .issue(
                caller,
                purpose,
                now,
                now + chrono::Duration::minutes(5),
                Uuid::from_u128(3),
            )
            .expect("token")
    }

    #[test]
    fn a_token_verifies_for_its_purpose_only() {
        let (_, issuer, verifier, caller) = setup();
        let access = issue(&issuer, &caller, Purpose::Access);
        assert_eq!(verifier.verify(&access, Purpose::Access), Ok(caller));
        assert_eq!(
            verifier.verify(&access, Purpose::Invitation),
            Err(Error::WrongPurpose("invitation"))
        );
    }

    #[test]
    fn a_key_pair_survives_its_pem_and_unknown_key_ids_are_refused() {
        let (pair, _, verifier, caller) = setup();
        let reloaded = KeyPair::from_pem(&pair.private_pem().expect("pem"), Some("k2".into()))
            .expect("reload");
        assert_eq!(reloaded.public_pem().ok(), pair.public_pem().ok());
        let other_kid = TokenIssuer::new(&reloaded, audience()).expect("issuer");
        let token = issue(&other_kid, &caller, Purpose::Access);
        assert_eq!(
            verifier.verify(&token, Purpose::Access),
            Err(Error::UnknownKey)
        );
        let garbage = SecretString::from("-----BEGIN PRIVATE KEY-----\nnope\n".to_owned());
        assert!(matches!(
            KeyPair::from_pem(&garbage, None),
            Err(Error::Key(_))
        ));
    }

    #[test]
    fn the_verifier_lists_the_raw_public_keys_it_accepts() {
        let (pair, issuer, _, caller) = setup();
        let other = KeyPair::generate(Some("k2".into())).expect("key");
        let (one, two) = (
            pair.public_pem().expect("pem"),
            other.public_pem().expect("pem"),
        );
        // A key id given twice keeps its last key, and its first place.
        let verifier = TokenVerifier::new(
            [
                ("k1", two.as_str()),
                ("k2", two.as_str()),
                ("k1", one.as_str()),
            ],
            &audience(),
        )
        .expect("verifier");
        let listed: Vec<_> = verifier.keys().iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(listed, ["k1", "k2"]);
        assert_eq!(
            verifier.keys()[0].ed25519,
            pair.signing.verifying_key().to_bytes()
        );
        let token = issue(&issuer, &caller, Purpose::Access);
        assert_eq!(verifier.verify(&token, Purpose::Access), Ok(caller));
    }

    #[test]
    fn only_bearer_headers_carry_a_token() {
        for good in ["Bearer abc", "bearer abc", "BEARER abc", " Bearer  abc "] {
            assert_eq!(TokenVerifier::bearer(Some(good)), Ok("abc"), "{good}");
        }
        for bad in [
            None,
            Some(""),
            Some("Basic abc"),
            Some("Bearer  "),
            Some("Bearer"),
            Some("Bearerabc"),
        ] {
            assert_eq!(TokenVerifier::bearer(bad), Err(Error::Missing), "{bad:?}");
        }
    }
}
