//! Passwords and refresh tokens. Passwords are hashed with Argon2id off the
//! async runtime, one hash or check per core at a time. A refresh token is `<tenant>.<user>.<secret>`; the log
//! records only a UUID derived from the SHA-256 of the secret, so nobody who
//! reads the log (auditors included) can use a token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use deedlog_kernel::{TenantId, UserId};
use deedlog_service::Error;
use sha2::{Digest, Sha256};
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use tokio::sync::Semaphore;
use uuid::Uuid;

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Checks a new password's length.
pub fn check_password(field: &str, password: &str) -> Result<(), Error> {
    let len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(Error::invalid(
            field,
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Argon2 work allowed at once in this process: one per core. Each hash or
/// check holds Argon2id's 19 MiB of memory blocks for its whole run, and
/// more runs than cores only share the CPU; unbounded, a seed's 24
/// concurrent invitations held 460 MB of blocks (ADR 0042).
fn argon2_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Semaphore::new(cores)
    })
}

/// Runs Argon2 `work` on a blocking thread once a slot is free; the slot
/// goes with the work, so a caller that gives up frees it only when the
/// work is done.
async fn argon2<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let slot = argon2_slots()
        .acquire()
        .await
        .map_err(|e| Error::internal(what, &e))?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        #[cfg(test)]
        let _running = tests::Running::enter();
        work()
    })
    .await
    .map_err(|e| Error::internal(what, &e))?
}

/// Hashes a password with Argon2id (PHC string).
pub async fn hash_password(password: String) -> Result<String, Error> {
    argon2("hash a password", move || {
        hash_blocking(password.as_bytes())
    })
    .await
}

fn hash_blocking(password: &[u8]) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| Error::internal("draw a salt", &e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::internal("encode a salt", &e))?;
    Argon2::default()
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::internal("hash a password", &e))
}

/// Whether `password` matches the stored hash. Without one (no such user,
/// or no password yet) it is checked against a dummy hash and is false, so
/// that the answer takes as long as for a real user.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, Error> {
    let real = hash.is_some();
    argon2("verify a password", move || {
        let hash = match hash {
            Some(hash) => hash,
            None => dummy_hash()?.to_owned(),
        };
        let parsed =
            PasswordHash::new(&hash).map_err(|e| Error::internal("parse a password hash", &e))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && matches)
    })
    .await
}

/// A hash of a random password with the parameters of real ones, made once.
fn dummy_hash() -> Result<&'static str, Error> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| Error::internal("draw a dummy password", &e))?;
    let hash = hash_blocking(&secret)?;
    Ok(DUMMY.get_or_init(|| hash))
}

/// A refresh token as handed to the client, and the id the log keeps.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub tenant: TenantId,
    pub user: UserId,
    pub secret: String,
}

impl RefreshToken {
    pub fn generate(tenant: TenantId, user: UserId) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| Error::internal("draw a token", &e))?;
        Ok(Self {
            tenant,
            user,
            secret: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Reads a token a client sent; any malformation is just "not valid".
    pub fn parse(token: &str) -> Result<Self, Error> {
        let invalid = || Error::Unauthenticated("the refresh token is not valid".to_owned());
        let mut parts = token.trim().split('.');
        let (Some(tenant), Some(user), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        Ok(Self {
            tenant: tenant.parse().map_err(|_| invalid())?,
            user: user.parse().map_err(|_| invalid())?,
            secret: secret.to_ascii_lowercase(),
        })
    }

    /// The id recorded in the log: the first 16 bytes of SHA-256(secret).
    pub fn id(&self) -> Uuid {
        let digest = Sha256::digest(self.secret.as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Uuid::from_bytes(id)
    }

    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.tenant, self.user, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Argon2 work running now, and the most seen running at once.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);

    /// Counts one piece of Argon2 work while it lives.
    pub(super) struct Running;

    impl Running {
        pub(super) fn enter() -> Self {
            let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
            MOST.fetch_max(now, Ordering::SeqCst);
            Running
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_argon2_runs_at_once_than_cores() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let mut work = tokio::task::JoinSet::new();
        for n in 0..cores * 4 {
            work.spawn(async move {
                let password = format!("password number {n}");
                if n % 2 == 0 {
                    hash_password(password).await.map(drop)
                } else {
                    verify_password(password, None).await.map(drop)
                }
            });
        }
        for done in work.join_all().await {
            done.expect("hash or verify");
        }
        let most = MOST.load(Ordering::SeqCst);
        assert!(
            (1..=cores).contains(&most),
            "{most} Argon2 runs at once on {cores} cores: each holds 19 MiB"
        );
    }

    #[test]
    fn a_refresh_token_round_trips_and_its_id_hides_the_secret() {
        let token = RefreshToken::generate(
            TenantId::from_uuid(Uuid::from_u128(1)),
            UserId::from_uuid(Uuid::from_u128(2)),
        )
        .expect("token");
        let parsed = RefreshToken::parse(&token.encode()).expect("parses");
        assert_eq!(parsed.id(), token.id());
        assert!(!token.id().to_string().contains(&token.secret[..8]));
        for bad in ["", "a.b.c", "x.y", &format!("{}.extra", token.encode())] {
            assert!(RefreshToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(!verify_password("wrong".into(), Some(hash))
            .await
            .expect("verify"));
        assert!(!verify_password("anything".into(), None)
            .await
            .expect("verify"));
        assert!(check_password("password", "short").is_err());
        assert!(dummy_hash().expect("dummy").starts_with("$argon2id$"));
    }
}
