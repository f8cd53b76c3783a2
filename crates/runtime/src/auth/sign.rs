//! Signing tokens (tenancy only): the Ed25519 key pair and the issuer.

use super::{Audience, Caller, Claims, Error, Purpose, ALGORITHM};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// An Ed25519 key pair and its key id.
#[derive(Clone)]
pub struct KeyPair {
    pub kid: String,
    /// Seen by the round-trip tests in `auth`.
    pub(super) signing: SigningKey,
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
