//! Tokens made in tests, to check that each way of getting one wrong is refused.

use crate::Session;
use chrono::{Duration, Utc};
use deedlog_kernel::Role;
use deedlog_runtime::auth::{Audience, Caller, KeyPair, Purpose, TokenIssuer};
use uuid::Uuid;

/// The admin behind `session`, as a token would name them.
pub fn admin_caller(session: &Session) -> Caller {
    Caller {
        user: session.user_id.parse().expect("user id"),
        tenant: session.tenant_id.parse().expect("tenant id"),
        role: Role::Admin,
    }
}

/// An access token for `caller` signed with `key` for `audience`, expiring
/// `expires_in` from now (negative: already expired).
pub fn token(key: &KeyPair, audience: &str, caller: &Caller, expires_in: Duration) -> String {
    let issuer = TokenIssuer::new(
        key,
        Audience {
            issuer: "deedlog".into(),
            audience: audience.into(),
        },
    )
    .expect("issuer");
    let now = Utc::now();
    issuer
        .issue(
            caller,
            Purpose::Access,
            now - Duration::minutes(30),
            now + expires_in,
            Uuid::now_v7(),
        )
        .expect("token")
}

/// A key with the cluster's key id that the cluster never issued.
pub fn forger_key() -> KeyPair {
    KeyPair::generate(Some("test-key".into())).expect("key")
}

/// Tokens every entry point refuses for `caller` of a cluster signing with
/// `signing`, each with a word its refusal names: none, malformed, expired,
/// forged, and issued for another audience.
pub fn refused_tokens(signing: &KeyPair, caller: &Caller) -> Vec<(Option<String>, &'static str)> {
    let expired = token(signing, "deedlog", caller, Duration::minutes(-5));
    let forged = token(&forger_key(), "deedlog", caller, Duration::minutes(5));
    let elsewhere = token(signing, "another-app", caller, Duration::minutes(5));
    vec![
        (None, "no bearer token"),
        (Some("not-a-jwt".to_owned()), "malformed"),
        (Some(expired), "expired"),
        (Some(forged), "signature"),
        (Some(elsewhere), "audience"),
    ]
}

/// A token with `alg` in its header, signed (or not, for `none`) with `secret`.
pub fn with_algorithm(caller: &Caller, header_alg: &str, secret: &[u8]) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let claims = serde_json::json!({
        "sub": caller.user, "tid": caller.tenant, "role": "admin", "purpose": "access",
        "iss": "deedlog", "aud": "deedlog", "iat": Utc::now().timestamp(),
        "exp": (Utc::now() + Duration::minutes(5)).timestamp(), "jti": Uuid::now_v7(),
    });
    if header_alg == "none" {
        // jsonwebtoken will not sign with `none`; an attacker writes it by hand.
        let b64 = |v: &serde_json::Value| base64url(v.to_string().as_bytes());
        let header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": "test-key"});
        return format!("{}.{}.", b64(&header), b64(&claims));
    }
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test-key".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).expect("hs256 token")
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
