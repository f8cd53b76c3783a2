//! `deedlog privacy …`: the operator's commands for data-protection
//! requests. One subcommand per request; add new ones to
//! [`PrivacyCommand`] and [`run`], nothing else of the CLI changes.
//!
//! * `export`: everything a tenant holds about one contact as one JSON
//!   document (right of access, `docs/privacy.md`), built by
//!   `deedlog_read_model::export` as the gateway's `contactExport` is.

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
}

/// Runs a `deedlog privacy` subcommand.
pub(super) async fn run(settings: &Settings, command: PrivacyCommand) -> anyhow::Result<()> {
    match command {
        PrivacyCommand::Export {
            contact,
            tenant,
            out,
        } => export_contact(settings, &contact, &tenant, out.as_deref()).await,
    }
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
    let mut scope = TenantScope::begin(&pool, tenant)
        .await
        .context("begin a read in the tenant's scope")?;
    let document = export::contact(&mut scope, contact, chrono::Utc::now(), &keyring)
        .await
        .context("read the contact's data")?;
    scope.finish().await.context("end the read")?;
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
