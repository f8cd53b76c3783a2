//! `deedlog privacy …`: the operator's commands for data-protection
//! requests. One subcommand per request; add new ones to
//! [`PrivacyCommand`] and [`run`], nothing else of the CLI changes.
//!
//! * `export`: everything a tenant holds about one contact as one JSON
//!   document (right of access, `docs/privacy.md`), built by
//!   `deedlog_read_model::export` as the gateway's `contactExport` is.
//! * `rotate-master-key`: rewraps every data key under the current master
//!   key (ADR 0035); no event is touched.
//! * `seal-legacy`: finds the subjects whose personal data sits in clear in
//!   events written before sealing and records them (ADR 0035).

use anyhow::Context;
use clap::Subcommand;
use deedlog_read_model::{export, TenantScope};
use deedlog_runtime::settings::Settings;
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What `deedlog privacy` does.
#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Everything a tenant holds about one contact, as one JSON document
    /// (format deedlog.contact-export/1, see docs/privacy.md): details,
    /// consents, compliance flags, messages with their texts,
    /// conversations, deals as buyer, properties owned and the contact's
    /// events as stored. Personal data: mind where it goes.
    Export {
        /// The contact's id.
        contact: String,
        /// The tenant that holds the contact.
        #[arg(long)]
        tenant: String,
        /// Write the document to FILE (created or replaced) instead of
        /// standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Rewrap every data key under privacy.master_key. Keys wrapped under
    /// privacy.previous_master_key (or the development key kept in the
    /// database) are unwrapped with it; afterwards only the new key is
    /// needed. No event is touched. Runs as the database owner.
    RotateMasterKey,
    /// Scan the log for events written before personal data was sealed
    /// and record whose data they hold in clear (table privacy_legacy).
    /// Writes nothing into events; forgetting such a subject erases it
    /// from every read, but the log's bytes keep it (docs/privacy.md).
    SealLegacy,
}

/// Runs a `deedlog privacy` subcommand.
pub(super) async fn run(settings: &Settings, command: PrivacyCommand) -> anyhow::Result<()> {
    match command {
        PrivacyCommand::Export {
            contact,
            tenant,
            out,
        } => export_contact(settings, &contact, &tenant, out.as_deref()).await,
        PrivacyCommand::RotateMasterKey => rotate_master_key(settings).await,
        PrivacyCommand::SealLegacy => seal_legacy(settings).await,
    }
}

/// A small pool as the database owner, for the key table's maintenance.
async fn owner_pool(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let mut connect = deedlog_cluster::connect_options(settings)?;
    connect.max_connections = 2;
    deedlog_cluster::pools::read_model_pool(settings, &connect).await
}

async fn rotate_master_key(settings: &Settings) -> anyhow::Result<()> {
    use deedlog_privacy::{MasterKey, MasterKeys, MasterSource};
    let MasterSource::Configured { keys, setting } =
        deedlog_cluster::privacy::master_source(settings)?
    else {
        anyhow::bail!(
            "privacy.master_key is not set: set it (or privacy.master_key_file) to the new key, and privacy.previous_master_key to the old one, then rotate"
        );
    };
    let pool = owner_pool(settings).await?;
    // Leaving development: its key is in the database, not in settings.
    let development: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT development_key FROM privacy_master")
            .fetch_optional(&pool)
            .await
            .context("read the database's master key")?
            .flatten();
    let mut retired: Vec<MasterKey> = settings
        .privacy
        .previous_master_key
        .iter()
        .map(|k| {
            MasterKey::from_base64(
                secrecy::ExposeSecret::expose_secret(k),
                "privacy.previous_master_key",
            )
        })
        .collect::<Result<_, _>>()?;
    retired.extend(
        development
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(MasterKey::from_bytes),
    );
    let current = keys.current().clone();
    let source = MasterSource::Configured {
        keys: MasterKeys::new(current.clone(), retired),
        setting,
    };
    let limits = deedlog_privacy::CacheLimits {
        entries: 0,
        ttl: std::time::Duration::from_secs(1),
    };
    let keyring = deedlog_privacy::Keyring::open(
        pool.clone(),
        source,
        deedlog_cluster::privacy::catalogue(),
        limits,
    )
    .await?;
    let rewrapped = keyring.rotate_master_key(&pool, &current).await?;
    pool.close().await;
    println!(
        "rewrapped {rewrapped} data keys under master key {}; privacy.previous_master_key is no longer needed",
        current.id()
    );
    Ok(())
}

async fn seal_legacy(settings: &Settings) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let reader = deedlog_cluster::pools::log_reader(settings)
        .await?
        .as_stored();
    let catalogue = deedlog_cluster::privacy::catalogue();
    // (tenant, subject) -> (events, first position, last position)
    let mut subjects: BTreeMap<(Uuid, Uuid), (i64, u64, u64)> = BTreeMap::new();
    let (mut position, mut scanned) = (0u64, 0u64);
    loop {
        let batch = reader.read_all(position, 5_000).await?;
        let Some(last) = batch.last() else { break };
        position = last.position;
        scanned += batch.len() as u64;
        for event in &batch {
            let Ok(payload) = serde_json::from_str(&event.payload) else {
                continue;
            };
            let stream = event.stream_id.as_uuid();
            if let Some(subject) = catalogue.clear_subject(&event.event_type, stream, &payload) {
                let entry = subjects
                    .entry((event.tenant_id.as_uuid(), subject))
                    .or_insert((0, event.position, event.position));
                entry.0 += 1;
                entry.2 = event.position;
            }
        }
    }
    let pool = owner_pool(settings).await?;
    let mut tx = pool.begin().await?;
    for ((tenant, subject), (events, first, last)) in &subjects {
        sqlx::query(
            "INSERT INTO privacy_legacy (tenant_id, subject_id, events, first_position, last_position) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, subject_id) DO UPDATE \
             SET events = EXCLUDED.events, first_position = EXCLUDED.first_position, \
                 last_position = EXCLUDED.last_position, recorded_at = clock_timestamp()",
        )
        .bind(tenant)
        .bind(subject)
        .bind(events)
        .bind(i64::try_from(*first)?)
        .bind(i64::try_from(*last)?)
        .execute(&mut *tx)
        .await
        .context("record a legacy subject")?;
    }
    tx.commit().await?;
    pool.close().await;
    let events: i64 = subjects.values().map(|v| v.0).sum();
    println!(
        "scanned {scanned} events: {} subjects have personal data in clear in {events} events written before sealing (recorded in privacy_legacy). Forgetting them erases it from every read, export and read model; the log's bytes keep it until a log rewrite (docs/privacy.md).",
        subjects.len()
    );
    Ok(())
}

/// Parses an id argument, naming the argument and the expected form.
fn id(what: &str, text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text.trim()).map_err(|e| {
        anyhow::anyhow!(
            "{text:?} is not a {what} id (a UUID such as 0192f0c4-6d7e-7c3a-9b1e-2f4a5b6c7d8e): {e}"
        )
    })
}

async fn export_contact(
    settings: &Settings,
    contact: &str,
    tenant: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let contact = id("contact", contact)?;
    let tenant = id("tenant", tenant)?;
    let mut connect = deedlog_cluster::connect_options(settings)?;
    // One read-only transaction, and the key service opening the events'
    // sealed fields beside it.
    connect.max_connections = 2;
    let pool = deedlog_cluster::pools::read_model_pool(settings, &connect).await?;
    let keyring = deedlog_cluster::privacy::keyring(settings, pool.clone())
        .await
        .context("open the key service")?;
    let scope = TenantScope::begin(&pool, tenant)
        .await
        .context("begin a read in the tenant's scope")?;
    let document = export::contact(scope, contact, chrono::Utc::now(), &keyring)
        .await
        .context("read the contact's data")?;
    pool.close().await;
    let Some(document) = document else {
        anyhow::bail!("tenant {tenant} has no contact {contact}");
    };
    let text = serde_json::to_string_pretty(&document.to_json())?;
    match out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("write the export to {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut stdout = stdout.lock();
            writeln!(stdout, "{text}")?;
            stdout.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_parsed_or_refused_naming_what_they_should_be() {
        let text = "0192f0c4-6d7e-7c3a-9b1e-2f4a5b6c7d8e";
        assert_eq!(id("contact", text).expect("a uuid").to_string(), text);
        let message = id("tenant", "acme").expect_err("no uuid").to_string();
        assert!(message.contains("is not a tenant id"), "{message}");
    }
}
