//! The right of access (GDPR art. 15, issue 19): everything the tenant
//! holds about one contact as one JSON document, format
//! `deedlog.contact-export/1` (`docs/privacy.md`). Built by
//! `deedlog_read_model::export`, the same builder `deedlog privacy export`
//! prints. Admins and auditors.

use super::reads::{found, scope};
use crate::viewer::allowed;
use async_graphql::{Context, Json, Object, Result};
use chrono::Utc;
use deedlog_kernel::Role;
use deedlog_read_model::export;
use uuid::Uuid;

const EXPORT: &str = "export a contact's personal data";

#[derive(Debug, Default)]
pub struct ContactExportQuery;

#[Object]
impl ContactExportQuery {
    /// Everything the tenant holds about a contact, as one JSON document
    /// (format `deedlog.contact-export/1`, every key in docs/privacy.md):
    /// details, consents, compliance flags, messages and replies with their
    /// texts, conversations, deals as buyer, properties owned, and the
    /// contact's events (personal fields opened, as in `auditEvents`).
    /// Admins and auditors; NOT_FOUND when the tenant has no such contact.
    async fn contact_export(
        &self,
        ctx: &Context<'_>,
        contact_id: Uuid,
    ) -> Result<Json<serde_json::Value>> {
        let viewer = allowed(ctx, Role::may_read_audit, EXPORT)?;
        let scope = scope(ctx, viewer).await?;
        let keyring = ctx.data::<deedlog_privacy::Keyring>()?;
        let read = export::contact(scope, contact_id, Utc::now(), keyring).await;
        found(read, "contact", |document| Json(document.to_json()))
    }
}
