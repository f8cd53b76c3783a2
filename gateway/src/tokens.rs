//! Access tokens already verified, remembered by their text: verifying an
//! Ed25519 signature costs more than answering a cached query. A token's
//! claims are a function of its text and the verifier's fixed keys, so
//! the memo keeps the claims and checks the expiry again on every use;
//! what a user may do now is still asked of the roster on every request.

use deedlog_runtime::auth::{Caller, Error, Purpose, TokenVerifier};

/// Most tokens remembered (a few hundred bytes each).
const TOKENS: usize = 10_000;

/// The verifier with its memo of access tokens.
#[derive(Debug)]
pub struct VerifiedTokens {
    verifier: TokenVerifier,
    memo: quick_cache::sync::Cache<String, (Caller, i64)>,
}

impl VerifiedTokens {
    pub fn new(verifier: TokenVerifier) -> Self {
        Self {
            verifier,
            memo: quick_cache::sync::Cache::new(TOKENS),
        }
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// The caller an access token proves, as [`TokenVerifier::verify`]
    /// says, its signature checked once per token.
    pub fn access(&self, token: &str) -> Result<Caller, Error> {
        if let Some((caller, expiry)) = self.memo.get(token) {
            return match self.verifier.unexpired(expiry) {
                true => Ok(caller),
                false => Err(Error::Expired),
            };
        }
        let (caller, expiry) = self.verifier.verify_with_expiry(token, Purpose::Access)?;
        self.memo.insert(token.to_owned(), (caller, expiry));
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use deedlog_kernel::{Role, TenantId, UserId};
    use deedlog_runtime::auth::{Audience, KeyPair, TokenIssuer};

    fn setup() -> (TokenIssuer, VerifiedTokens) {
        let pair = KeyPair::generate(Some("k1".into())).expect("a key pair");
        let audience = Audience {
            issuer: "deedlog".into(),
            audience: "deedlog-api".into(),
        };
        let issuer = TokenIssuer::new(&pair, audience.clone()).expect("an issuer");
        let public = pair.public_pem().expect("a public key");
        let verifier = TokenVerifier::new([("k1", public.as_str())], &audience).expect("verifier");
        (issuer, VerifiedTokens::new(verifier))
    }

    fn token(issuer: &TokenIssuer, caller: &Caller, expires_in: Duration) -> String {
        let now = Utc::now();
        issuer
            .issue(
                caller,
                Purpose::Access,
                now,
                now + expires_in,
                uuid::Uuid::now_v7(),
            )
            .expect("a token")
    }

    #[test]
    fn a_remembered_token_proves_the_same_caller_and_a_bad_one_nothing() {
        let (issuer, tokens) = setup();
        let caller = Caller {
            user: UserId::from_uuid(uuid::Uuid::now_v7()),
            tenant: TenantId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Agent,
        };
        let good = token(&issuer, &caller, Duration::minutes(5));
        assert_eq!(tokens.access(&good), Ok(caller));
        assert_eq!(tokens.access(&good), Ok(caller), "from the memo");
        // One character of the signature changed (not the last, whose low
        // bits a lenient decoder may ignore).
        let at = good.len() - 10;
        let other = if &good[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{other}{}", &good[..at], &good[at + 1..]);
        assert!(tokens.access(&forged).is_err(), "another text is verified");
        let expired = token(&issuer, &caller, Duration::seconds(-30));
        assert_eq!(tokens.access(&expired), Err(Error::Expired));
        assert_eq!(tokens.access(&expired), Err(Error::Expired));
    }

    #[test]
    fn expiry_is_checked_on_every_use_with_the_verifiers_leeway() {
        let (_, tokens) = setup();
        let now = Utc::now().timestamp();
        assert!(tokens.verifier().unexpired(now + 60));
        assert!(tokens.verifier().unexpired(now - 2), "within the leeway");
        assert!(!tokens.verifier().unexpired(now - 60));
    }
}
