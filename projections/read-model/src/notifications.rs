//! `rm_notifications`: each user's notifications (assignments, replies on
//! their conversations, stage changes of their deals, price changes of
//! their properties) and how far they have read them.
//!
//! The rows hold ids, kinds, stages, amounts and positions only; names are
//! read from the read models that own them.

use crate::error::Error;
use crate::int64::Int64;
use crate::list::{position_key, Listing, Order};
use crate::page::{Connection, Page};
use crate::row::{row, Query};
use crate::where_clause::{Bind, WhereClause};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The notification kinds, as the `kind` column stores them (see
/// `docs/read-models.md`): the projector writes these, the API's
/// `NotificationKind` reads them.
pub mod kind {
    pub const DEAL_ASSIGNED: &str = "deal_assigned";
    pub const DEAL_REASSIGNED_AWAY: &str = "deal_reassigned_away";
    pub const PROPERTY_ASSIGNED: &str = "property_assigned";
    pub const PROPERTY_REASSIGNED_AWAY: &str = "property_reassigned_away";
    pub const REPLY_RECEIVED: &str = "reply_received";
    pub const DEAL_STAGE_CHANGED: &str = "deal_stage_changed";
    pub const ASKING_PRICE_CHANGED: &str = "asking_price_changed";

    /// Every kind, in the order the API's enum lists them.
    pub const ALL: [&str; 7] = [
        DEAL_ASSIGNED,
        DEAL_REASSIGNED_AWAY,
        PROPERTY_ASSIGNED,
        PROPERTY_REASSIGNED_AWAY,
        REPLY_RECEIVED,
        DEAL_STAGE_CHANGED,
        ASKING_PRICE_CHANGED,
    ];
}

row! {
    /// A row of `rm_notifications.notifications`: one notification of one
    /// addressee, named by the log position of the event that caused it.
    #[derive(Eq)]
    pub struct NotificationRow as "NotificationRecord" in "rm_notifications"."notifications" {
        /// The user it is addressed to.
        pub recipient_id: Uuid,
        /// The log position of the event that caused it: the feed's order,
        /// and what `markNotificationsRead(upTo:)` takes.
        pub position: Int64,
        /// When the event happened.
        pub occurred_at: DateTime<Utc>,
        /// One of [`kind::ALL`]; the API shows it as a `NotificationKind`.
        #[cfg_attr(feature = "graphql", graphql(skip))]
        pub kind: String,
        /// The user who acted; none for a system actor (a provider's webhook).
        pub actor_id: Option<Uuid>,
        /// The deal, for a deal's notifications and a reply on its conversation.
        pub deal_id: Option<Uuid>,
        /// The property (the deal's, for a deal).
        pub property_id: Option<Uuid>,
        /// The contact who replied.
        pub contact_id: Option<Uuid>,
        /// The conversation replied on.
        pub conversation_id: Option<Uuid>,
        /// The reply.
        pub message_id: Option<Uuid>,
        /// A stage change's stage before (lower case, e.g. `under_contract`).
        pub stage_from: Option<String>,
        /// A stage change's stage after (`closed_won`, `closed_lost` included).
        pub stage_to: Option<String>,
        /// The asking price before a change, if there was one (minor units).
        pub amount_from_minor: Option<Int64>,
        /// The new asking price, or a won deal's final price (minor units).
        pub amount_to_minor: Option<Int64>,
        /// The ISO 4217 currency of the amounts.
        pub currency: Option<String>,
        /// For an assignment, the agent before (if any); for a reassignment
        /// away, the new agent.
        pub other_agent_id: Option<Uuid>,
    }
}

row! {
    /// A row of `rm_notifications.read_marks`: every notification of the
    /// user at or below `read_up_to` is read.
    #[derive(Eq)]
    pub struct ReadMarkRow in "rm_notifications"."read_marks" {
        pub user_id: Uuid,
        pub read_up_to: i64,
        pub last_position: i64,
    }
}

row! {
    /// A row of `rm_notifications.deal_agents`: the agent of each deal
    /// (kept by the projector to address notifications).
    #[derive(Eq)]
    pub struct DealAgentRow in "rm_notifications"."deal_agents" {
        pub deal_id: Uuid,
        pub property_id: Uuid,
        pub agent_id: Uuid,
        pub stage: String,
        pub last_position: i64,
    }
}

row! {
    /// A row of `rm_notifications.property_agents`: the agent of each
    /// property (kept by the projector to address notifications).
    #[derive(Eq)]
    pub struct PropertyAgentRow in "rm_notifications"."property_agents" {
        pub property_id: Uuid,
        pub agent_id: Option<Uuid>,
        pub last_position: i64,
    }
}

row! {
    /// A row of `rm_notifications.conversation_links`: the deal and
    /// property a conversation is about (kept by the projector to address
    /// the notification of a reply).
    #[derive(Eq)]
    pub struct ConversationLinkRow in "rm_notifications"."conversation_links" {
        pub conversation_id: Uuid,
        pub contact_id: Uuid,
        pub deal_id: Option<Uuid>,
        pub property_id: Option<Uuid>,
        pub last_position: i64,
    }
}

/// A page of `user`'s notifications above the position `above` (0: all;
/// their read mark: only the unread), newest first (the cursor is the
/// position).
pub async fn feed(
    conn: &mut PgConnection,
    user: Uuid,
    above: i64,
    page: &Page,
) -> Result<Connection<NotificationRow>, Error> {
    feed_listing(user, above)
        .page(
            conn,
            page,
            |clause, _| position_key(page, clause),
            |r: &NotificationRow| r.position.to_string(),
            "list a user's notifications",
        )
        .await
}

/// How many of `user`'s notifications are above the position `above`.
pub async fn count_feed(conn: &mut PgConnection, user: Uuid, above: i64) -> Result<i64, Error> {
    feed_listing(user, above)
        .count(conn, "count a user's notifications")
        .await
}

fn feed_listing(user: Uuid, above: i64) -> Listing {
    let mut filters = WhereClause::default();
    filters.add("recipient_id = {}", Bind::Id(user));
    filters.add("position > {}", Bind::Int(above));
    Listing::of::<NotificationRow>(filters, Order::desc("position", &["position"], &[]))
}

/// `user`'s notifications after `after`, oldest first, at most `limit`:
/// what a live feed resumes from.
pub async fn since(
    conn: &mut PgConnection,
    user: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, Error> {
    Query::rows("WHERE recipient_id = $1 AND position > $2 ORDER BY position LIMIT $3")
        .bind(user)
        .bind(after)
        .bind(limit)
        .all(conn, "read new notifications")
        .await
}

/// The position up to which `user` has read their notifications (0 when
/// they never marked any).
pub async fn read_up_to(conn: &mut PgConnection, user: Uuid) -> Result<i64, Error> {
    let mark = Query::<ReadMarkRow>::rows("WHERE user_id = $1")
        .bind(user)
        .optional(conn, "read a user's read mark")
        .await?;
    Ok(mark.map_or(0, |m| m.read_up_to))
}

/// How many of `user`'s notifications are after their read mark.
pub async fn unread_count(conn: &mut PgConnection, user: Uuid) -> Result<i64, Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM rm_notifications.notifications n \
         WHERE n.recipient_id = $1 AND n.position > COALESCE( \
           (SELECT m.read_up_to FROM rm_notifications.read_marks m WHERE m.user_id = $1), 0)",
    )
    .bind(user)
    .fetch_one(conn)
    .await
    .map_err(Error::db("count a user's unread notifications"))?;
    Ok(count)
}

/// The position of `user`'s latest notification (0 when none): where a
/// live feed of only new ones starts.
pub async fn latest_position(conn: &mut PgConnection, user: Uuid) -> Result<i64, Error> {
    let (position,): (Option<i64>,) = sqlx::query_as(
        "SELECT max(position) FROM rm_notifications.notifications WHERE recipient_id = $1",
    )
    .bind(user)
    .fetch_one(conn)
    .await
    .map_err(Error::db("read the latest notification position"))?;
    Ok(position.unwrap_or(0))
}
