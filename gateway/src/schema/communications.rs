//! Contacts: compliance per channel, messages, conversations, timeline; the
//! tenant's suppression list.

use super::page::{connection, page, Connection};
use super::properties::timeline_of;
use super::reads::{found, record_scope};
use crate::error::from_read;
use async_graphql::{ComplexObject, Context, Json, Object, Result, SimpleObject};
use deedlog_read_model::communications::{
    self as rm, ComplianceRow, ContactRow, ConversationRow, MessageRow, SuppressionRow,
};
use deedlog_read_model::timeline::EntryRow;
use deedlog_read_model::TenantScope;
use uuid::Uuid;

const READ: &str = "read contacts and messages";

/// A contact as the communications read model has it.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Contact {
    #[graphql(flatten)]
    pub record: ContactRow,
}

impl Contact {
    /// The contact with this id in the scope's tenant; NOT_FOUND when there is none.
    pub async fn read(scope: &mut TenantScope, id: Uuid) -> Result<Self> {
        found(rm::get(scope.conn(), id).await, "contact", |record| {
            Contact { record }
        })
    }
}

#[ComplexObject]
impl Contact {
    /// Whether the contact can be reached on each channel, and why not.
    async fn compliance(&self, ctx: &Context<'_>) -> Result<Vec<ComplianceRow>> {
        let mut scope = record_scope(ctx, READ).await?;
        rm::compliance(scope.conn(), self.record.contact_id)
            .await
            .map_err(from_read)
    }

    /// Messages out, in and refused, newest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<Message>> {
        let mut scope = record_scope(ctx, READ).await?;
        let rows = rm::messages(scope.conn(), self.record.contact_id, &page(first, after))
            .await
            .map_err(from_read)?;
        Ok(connection(rows, |record| Message { record }))
    }

    /// The contact's conversations.
    async fn conversations(&self, ctx: &Context<'_>) -> Result<Vec<ConversationRow>> {
        let mut scope = record_scope(ctx, READ).await?;
        rm::conversations(scope.conn(), self.record.contact_id)
            .await
            .map_err(from_read)
    }

    /// The contact's events in words (no personal data), oldest first.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<EntryRow>> {
        timeline_of(ctx, self.record.contact_id, first, after).await
    }
}

/// A message, with why it was refused when it was.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Message {
    #[graphql(flatten)]
    pub record: MessageRow,
}

#[ComplexObject]
impl Message {
    /// The rules that refused the message, with their details.
    async fn refusal_reasons(&self) -> Option<Json<serde_json::Value>> {
        self.record.refusal_reasons.clone().map(Json)
    }
}

#[derive(Debug, Default)]
pub struct CommunicationsQuery;

#[Object]
impl CommunicationsQuery {
    /// One contact; NOT_FOUND when the tenant has none with this id.
    async fn contact(&self, ctx: &Context<'_>, id: Uuid) -> Result<Contact> {
        let mut scope = record_scope(ctx, READ).await?;
        Contact::read(&mut scope, id).await
    }

    /// Every contact and channel that may not be messaged, and why.
    async fn suppressions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<SuppressionRow>> {
        let mut scope = record_scope(ctx, READ).await?;
        let rows = rm::suppressions(scope.conn(), &page(first, after))
            .await
            .map_err(from_read)?;
        Ok(connection(rows, |row| row))
    }
}
