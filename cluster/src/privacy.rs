//! The key service as this process's settings configure it (ADR 0035):
//! the domains' personal-data declarations and the master key.

use anyhow::{bail, Context};
use deedlog_privacy::{CacheLimits, Catalogue, Keyring, MasterKey, MasterKeys, MasterSource};
use deedlog_runtime::settings::{Environment, Settings};
use secrecy::{ExposeSecret, SecretString};

/// Every domain's personal fields and forgetting events.
pub fn catalogue() -> Catalogue {
    use deedlog_communications_domain::personal as contacts;
    use deedlog_tenancy_domain::personal as users;
    Catalogue::new(
        &[contacts::PERSONAL, users::PERSONAL],
        &[contacts::FORGETTING, users::FORGETTING],
    )
}

/// Where the master key comes from: settings, or in development the
/// database's generated one; production refuses to start without it.
pub fn master_source(settings: &Settings) -> anyhow::Result<MasterSource> {
    let privacy = &settings.privacy;
    let (current, setting) = match (&privacy.master_key, &privacy.master_key_file) {
        (Some(key), _) => (Some(key.clone()), "privacy.master_key"),
        (None, Some(path)) => (
            Some(SecretString::from(
                std::fs::read_to_string(path)
                    .with_context(|| format!("read privacy.master_key_file {path}"))?,
            )),
            "privacy.master_key_file",
        ),
        (None, None) => (None, "privacy.master_key"),
    };
    let Some(current) = current else {
        if settings.environment == Environment::Production {
            bail!("privacy.master_key or privacy.master_key_file is required when environment = \"production\" (32 bytes in base64: `openssl rand -base64 32`)");
        }
        return Ok(MasterSource::Development);
    };
    let current = MasterKey::from_base64(current.expose_secret(), setting)?;
    let previous = privacy
        .previous_master_key
        .as_ref()
        .map(|key| MasterKey::from_base64(key.expose_secret(), "privacy.previous_master_key"))
        .transpose()?;
    Ok(MasterSource::Configured {
        keys: MasterKeys::new(current, previous.into_iter().collect()),
        setting: setting.to_owned(),
    })
}

/// Opens the key service on `pool`, checking the master key against the database.
pub async fn keyring(settings: &Settings, pool: sqlx::PgPool) -> anyhow::Result<Keyring> {
    let limits = CacheLimits {
        entries: usize::try_from(settings.privacy.key_cache_entries).unwrap_or(usize::MAX),
        ttl: settings.privacy.key_cache_ttl(),
    };
    Ok(Keyring::open(pool, master_source(settings)?, catalogue(), limits).await?)
}
