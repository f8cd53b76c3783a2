//! The viewer's own notification feed (`rm_notifications`): assignments,
//! replies on their conversations, stage changes of their deals and price
//! changes of their properties, never of their own actions. Every read is
//! of the viewer's notifications only; there is no argument naming a user.
//! Names (agents, the property's address) are read through the loaders of
//! the read models that own them.

use super::enums::NotificationKind;
use super::loaders::{PropertyKey, TenantLoader, UserKey};
use super::page::{connection, page, Connection, Count};
use super::properties::Property;
use super::reads::scope;
use crate::error::{from_read, internal};
use crate::viewer::viewer;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use deedlog_read_model::notifications::{self as rm, NotificationRow};
use deedlog_read_model::tenancy::UserRow;
use deedlog_read_model::Int64;

/// A notification addressed to the viewer.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Notification {
    #[graphql(flatten)]
    pub record: NotificationRow,
    /// Whether the viewer has marked it read (`markNotificationsRead` up to
    /// its position or later).
    pub read: bool,
}

impl Notification {
    /// `record` as the viewer sees it, whose read mark is `read_up_to`.
    pub fn new(record: NotificationRow, read_up_to: i64) -> Self {
        Self {
            read: record.position.0 <= read_up_to,
            record,
        }
    }
}

#[ComplexObject]
impl Notification {
    /// What the notification tells.
    async fn kind(&self) -> Result<NotificationKind> {
        NotificationKind::from_stored(&self.record.kind).ok_or_else(|| {
            internal(
                "read a notification",
                &format!("unknown notification kind {:?}", self.record.kind),
            )
        })
    }

    /// The user who acted; none for a system actor (a provider's webhook).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<UserRow>> {
        user(ctx, self.record.actor_id).await
    }

    /// For an assignment, the agent before (if any); for a reassignment
    /// away, the new agent.
    async fn other_agent(&self, ctx: &Context<'_>) -> Result<Option<UserRow>> {
        user(ctx, self.record.other_agent_id).await
    }

    /// The property the notification is about (of the deal, for a deal).
    async fn property(&self, ctx: &Context<'_>) -> Result<Option<Property>> {
        let Some(id) = self.record.property_id else {
            return Ok(None);
        };
        Ok(ctx
            .data::<DataLoader<TenantLoader>>()?
            .load_one(PropertyKey(id))
            .await?
            .map(|record| Property { record }))
    }
}

async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<UserRow>> {
    let Some(id) = id else {
        return Ok(None);
    };
    ctx.data::<DataLoader<TenantLoader>>()?
        .load_one(UserKey(id))
        .await
}

#[derive(Debug, Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The viewer's notifications, newest first (`first` or `last`
    /// 1–100, default 20); with `unreadOnly`, only those after their read
    /// mark. Any role reads their own.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        unread_only: Option<bool>,
    ) -> Result<Connection<Notification>> {
        let page = page(first, after, last, before)?;
        let viewer = viewer(ctx)?;
        let user = viewer.caller.user.as_uuid();
        let mut scope = scope(ctx, viewer).await?;
        let mark = rm::read_up_to(scope.conn(), user)
            .await
            .map_err(from_read)?;
        let above = if unread_only.unwrap_or(false) {
            mark
        } else {
            0
        };
        let rows = rm::feed(scope.conn(), user, above, &page)
            .await
            .map_err(from_read)?;
        Ok(connection(
            rows,
            Count::Notifications { user, above },
            |record| Notification::new(record, mark),
        ))
    }

    /// How many of the viewer's notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<Int64> {
        let viewer = viewer(ctx)?;
        let mut scope = scope(ctx, viewer).await?;
        rm::unread_count(scope.conn(), viewer.caller.user.as_uuid())
            .await
            .map(Int64)
            .map_err(from_read)
    }
}
