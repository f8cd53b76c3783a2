//! The sealing key as this process's settings configure it (ADR 0037), and
//! the public keys heads are verified with.

use anyhow::{bail, Context};
use deedlog_runtime::settings::{Environment, Settings};
use deedlog_seal::{PublicKey, SealingKey};
use secrecy::ExposeSecret;

/// The key heads are signed with: `sealing.key` or `sealing.key_file`; in
/// development without either, the database's generated key (with a
/// warning); production refuses to start without one.
pub async fn key(settings: &Settings, pool: &sqlx::PgPool) -> anyhow::Result<SealingKey> {
    match configured_or_development(settings, pool).await? {
        Some(key) => Ok(key),
        None => bail!("sealing.key or sealing.key_file is required when environment = \"production\" (32 bytes in base64: `deedlog audit sealing-key`)"),
    }
}

/// [`key`], or `None` in production without one (a verifier may be given
/// public keys only).
pub async fn configured_or_development(
    settings: &Settings,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Option<SealingKey>> {
    let sealing = &settings.sealing;
    let configured = match (&sealing.key, &sealing.key_file) {
        (Some(key), _) => Some((key.expose_secret().to_owned(), "sealing.key")),
        (None, Some(path)) => Some((
            std::fs::read_to_string(path)
                .with_context(|| format!("read sealing.key_file {path}"))?,
            "sealing.key_file",
        )),
        (None, None) => None,
    };
    if let Some((text, setting)) = configured {
        return SealingKey::from_base64(&text)
            .map(Some)
            .map_err(|reason| anyhow::anyhow!("{setting} {reason}"));
    }
    if settings.environment == Environment::Production {
        return Ok(None);
    }
    // The first process to ask stores its draw; every later one reads it.
    let seed: Vec<u8> = sqlx::query_scalar("SELECT seal_development_key($1)")
        .bind(rand_seed()?.to_vec())
        .fetch_one(pool)
        .await
        .context("read the development sealing key")?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| anyhow::anyhow!("the development sealing key is not 32 bytes"))?;
    let key = SealingKey::from_seed(seed);
    tracing::warn!(
        key_id = key.id(),
        "no sealing.key configured: the log is sealed with a development key kept in the database, which proves nothing to an auditor (set sealing.key)"
    );
    Ok(Some(key))
}

/// The keys a verifier trusts: `key`'s public half, `sealing.previous_public_keys`
/// and `extra` (e.g. `--public-key`), each named in its error.
pub fn trusted(
    settings: &Settings,
    key: Option<&SealingKey>,
    extra: &[String],
) -> anyhow::Result<Vec<PublicKey>> {
    let mut keys: Vec<PublicKey> = key.map(SealingKey::public).into_iter().collect();
    for (i, text) in settings.sealing.previous_public_keys.iter().enumerate() {
        keys.push(
            PublicKey::from_base64(text)
                .map_err(|reason| anyhow::anyhow!("sealing.previous_public_keys[{i}] {reason}"))?,
        );
    }
    for text in extra {
        keys.push(
            PublicKey::from_base64(text)
                .map_err(|reason| anyhow::anyhow!("--public-key {text} {reason}"))?,
        );
    }
    Ok(keys)
}

fn rand_seed() -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("draw a sealing key: {e}"))?;
    Ok(seed)
}
