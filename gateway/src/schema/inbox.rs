//! The inbox: conversations across contacts, awaiting a reply first, with
//! their contact, deal and property (one statement per kind for the page).

use super::communications::Contact;
use super::deals::Deal;
use super::enums::{stored_name, Channel};
use super::loaders::{ContactKey, DealKey, PropertyKey, TenantLoader};
use super::page::{connection, page, Connection, Count};
use super::properties::Property;
use super::reads::scope;
use crate::error::from_read;
use crate::viewer::allowed;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject};
use deedlog_kernel::Role;
use deedlog_read_model::communications::ConversationRow;
use deedlog_read_model::inbox::{self as rm, ConversationOrder as Order};
use uuid::Uuid;

const READ: &str = "read contacts and messages";

/// A conversation: a contact's messages out and in under one conversation
/// id, about a property or deal.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Conversation {
    #[graphql(flatten)]
    pub record: ConversationRow,
}

#[ComplexObject]
impl Conversation {
    /// Whether the contact wrote last, so the conversation awaits a reply.
    async fn unreplied(&self) -> bool {
        rm::is_unreplied(&self.record)
    }

    /// The contact.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        Ok(loader
            .load_one(ContactKey(self.record.contact_id))
            .await?
            .map(|record| Contact { record }))
    }

    /// The deal it is about, if any.
    async fn deal(&self, ctx: &Context<'_>) -> Result<Option<Deal>> {
        let Some(id) = self.record.deal_id else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        Ok(loader.load_one(DealKey(id)).await?.map(Deal::from))
    }

    /// The property it is about, if any.
    async fn property(&self, ctx: &Context<'_>) -> Result<Option<Property>> {
        let Some(id) = self.record.property_id else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        Ok(loader
            .load_one(PropertyKey(id))
            .await?
            .map(|record| Property { record }))
    }
}

/// Which conversations the inbox shows; every field set narrows it.
#[derive(Debug, Default, InputObject)]
pub struct ConversationFilter {
    /// Awaiting a reply (the contact wrote last), or not.
    pub unreplied: Option<bool>,
    /// Used this channel.
    pub channel: Option<Channel>,
    /// About a deal or a property of this agent.
    pub agent_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub property_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
}

/// How to order the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
pub enum ConversationOrder {
    /// Awaiting a reply first, then the most recently active.
    #[default]
    UnrepliedFirst,
    /// The most recently active first.
    LastMessageDesc,
}

#[derive(Debug, Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// The inbox: conversations across contacts, a page at a time (`first`
    /// or `last` 1–100).
    #[allow(clippy::too_many_arguments)]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConversationFilter>,
        #[graphql(default)] order: ConversationOrder,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Conversation>> {
        let viewer = allowed(ctx, Role::may_read_records, READ)?;
        let page = page(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = rm::ConversationFilter {
            unreplied: f.unreplied,
            channel: f.channel.map(stored_name),
            agent_id: f.agent_id,
            contact_id: f.contact_id,
            property_id: f.property_id,
            deal_id: f.deal_id,
            order: match order {
                ConversationOrder::UnrepliedFirst => Order::UnrepliedFirst,
                ConversationOrder::LastMessageDesc => Order::LastMessageDesc,
            },
        };
        let mut scope = scope(ctx, viewer).await?;
        let rows = rm::conversations(scope.conn(), &filter, &page)
            .await
            .map_err(from_read)?;
        Ok(connection(rows, Count::Conversations(filter), |record| {
            Conversation { record }
        }))
    }
}
