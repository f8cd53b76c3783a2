//! Relay-style connections (async-graphql's own: edges with opaque cursors,
//! `pageInfo`) read forwards (`first`, `after`) or backwards (`last`,
//! `before`), with a bounded page size (1–100, checked by the read-model
//! crate) and a `totalCount` counted only when asked for.

use super::reads::scope;
use crate::error::{bad_input, from_read};
use crate::viewer::viewer;
use async_graphql::connection::{self, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType, Result};
use deedlog_read_model as rm;
use deedlog_read_model::audit::AuditFilter;
use deedlog_read_model::communications::ContactFilter;
use deedlog_read_model::deal_list::DealFilter;
use deedlog_read_model::inbox::ConversationFilter;
use deedlog_read_model::properties::PropertyFilter;
use sqlx::PgConnection;
use uuid::Uuid;

/// Rows 20 unless asked otherwise.
pub const DEFAULT_FIRST: i32 = 20;

/// A page of `T` nodes, with the list's total.
pub type Connection<T> = connection::Connection<String, T, Total, EmptyFields>;

/// Which list a connection is a page of, with its filters: what its
/// `totalCount` counts.
#[derive(Debug, Clone)]
pub enum Count {
    Properties(PropertyFilter),
    Deals(DealFilter),
    Contacts(ContactFilter),
    Conversations(ConversationFilter),
    Suppressions,
    /// A contact's messages.
    Messages(Uuid),
    /// A record's timeline.
    Timeline(Uuid),
    Audit(AuditFilter),
    /// A user's notifications above a position (their read mark: the
    /// unread ones).
    Notifications {
        user: Uuid,
        above: i64,
    },
}

impl Count {
    async fn run(&self, conn: &mut PgConnection) -> Result<i64, rm::Error> {
        match self {
            Self::Properties(f) => rm::properties::count(conn, f).await,
            Self::Deals(f) => rm::deal_list::count(conn, f).await,
            Self::Contacts(f) => rm::communications::count_contacts(conn, f).await,
            Self::Conversations(f) => rm::inbox::count(conn, f).await,
            Self::Suppressions => rm::communications::count_suppressions(conn).await,
            Self::Messages(contact) => rm::communications::count_messages(conn, *contact).await,
            Self::Timeline(record) => rm::timeline::count(conn, *record).await,
            Self::Audit(f) => rm::audit::count(conn, f).await,
            Self::Notifications { user, above } => {
                rm::notifications::count_feed(conn, *user, *above).await
            }
        }
    }
}

/// The fields a connection has beside its edges.
#[derive(Debug, Clone)]
pub struct Total(pub Count);

#[Object]
impl Total {
    /// How many rows the list holds with its filters, whatever the page.
    /// Counted only when asked for, in a read of its own: under
    /// concurrent writes it may differ from the page by what changed in
    /// between.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        // The list's resolver checked the viewer's role before any page.
        let mut scope = scope(ctx, viewer(ctx)?).await?;
        let total = self.0.run(scope.conn()).await.map_err(from_read)?;
        scope.finish().await.map_err(from_read)?;
        Ok(total)
    }
}

/// A read-model page as a GraphQL connection of the list `count` counts,
/// each row made a node.
pub fn connection<R, T: OutputType>(
    page: rm::Connection<R>,
    count: Count,
    node: impl Fn(R) -> T,
) -> Connection<T> {
    let mut out = Connection::with_additional_fields(
        page.page_info.has_previous_page,
        page.page_info.has_next_page,
        Total(count),
    );
    out.edges.extend(
        page.edges
            .into_iter()
            .map(|e| Edge::new(e.cursor, node(e.node))),
    );
    out
}

/// The read-model page the Relay arguments ask for: `first` rows `after` a
/// cursor, or `last` rows `before` one (20 when no size is given). Mixing
/// the two ways is refused.
pub fn page(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<rm::Page> {
    match (first, last) {
        (Some(_), Some(_)) => Err(bad_input(
            "pass `first` (with `after`) to read forwards or `last` (with `before`) to read \
             backwards, not both"
                .to_owned(),
        )),
        (None, Some(last)) => match after {
            Some(_) => Err(bad_input(
                "`after` goes with `first`; to read backwards pass `last` with `before`".to_owned(),
            )),
            None => Ok(rm::Page {
                size: last.into(),
                cursor: before,
                direction: rm::Direction::Backward,
            }),
        },
        (first, None) => match (&after, before) {
            (Some(_), Some(_)) => Err(bad_input(
                "pass `after` to read forwards or `before` to read backwards, not both".to_owned(),
            )),
            (None, Some(_)) if first.is_some() => Err(bad_input(
                "`before` goes with `last`; to read forwards pass `first` with `after`".to_owned(),
            )),
            (None, Some(before)) => Ok(rm::Page {
                size: DEFAULT_FIRST.into(),
                cursor: Some(before),
                direction: rm::Direction::Backward,
            }),
            _ => Ok(rm::Page {
                size: first.unwrap_or(DEFAULT_FIRST).into(),
                cursor: after,
                direction: rm::Direction::Forward,
            }),
        },
    }
}
