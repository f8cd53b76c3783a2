//! Signed access tokens (JWT, EdDSA): tenancy issues them with its private
//! key; every other part verifies them with the public keys, pinning the
//! algorithm, issuer, audience, expiry and key id. Nothing here trusts a
//! token's own header beyond picking which known key to check it with.

mod sign;
mod verify;

pub use sign::{KeyPair, TokenIssuer};
pub use verify::{TokenVerifier, VerificationKey};

use deedlog_kernel::{Role, TenantId, UserId};
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
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

/// Who tokens are for: the issuer and audience every token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub issuer: String,
    pub audience: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use secrecy::SecretString;

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
