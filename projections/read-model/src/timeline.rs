//! `rm_timeline`: every event of a property, deal or contact in words.

use crate::error::Error;
use crate::int64::Int64;
use crate::list::{position_key, Listing, Order};
use crate::page::{Connection, Page};
use crate::row::{row, Query};
use crate::where_clause::{Bind, WhereClause};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// A row of `rm_timeline.entries`.
    #[derive(Eq)]
    pub struct EntryRow as "TimelineEntry" in "rm_timeline"."entries" {
        pub position: Int64,
        pub stream_id: Uuid,
        pub stream_type: String,
        pub version: Int64,
        pub occurred_at: DateTime<Utc>,
        pub event_type: String,
        pub actor: String,
        pub actor_name: Option<String>,
        pub summary: String,
        pub text: String,
        pub correlation_id: Uuid,
        pub causation_id: Uuid,
    }
}

row! {
    /// A row of `rm_timeline.actors`: the names the timeline writes for users
    /// (kept by the projector for its own text).
    #[derive(Eq)]
    pub struct ActorRow in "rm_timeline"."actors" {
        pub user_id: Uuid,
        pub display_name: String,
        pub last_position: i64,
    }
}

row! {
    /// A row of `rm_timeline.scenario_names`: the names the timeline writes for
    /// a deal's scenarios (kept by the projector for its own text).
    #[derive(Eq)]
    pub struct ScenarioNameRow in "rm_timeline"."scenario_names" {
        pub deal_id: Uuid,
        pub scenario_id: Uuid,
        pub name: String,
        pub last_position: i64,
    }
}

/// A page of a record's timeline, oldest first (by log position; the
/// cursor is the position).
pub async fn entries(
    conn: &mut PgConnection,
    stream_id: Uuid,
    page: &Page,
) -> Result<Connection<EntryRow>, Error> {
    listing(stream_id)
        .page(
            conn,
            page,
            |clause, _| position_key(page, clause),
            |r: &EntryRow| r.position.to_string(),
            "read a timeline",
        )
        .await
}

/// How many entries a record's timeline has.
pub async fn count(conn: &mut PgConnection, stream_id: Uuid) -> Result<i64, Error> {
    listing(stream_id).count(conn, "count a timeline").await
}

fn listing(stream_id: Uuid) -> Listing {
    let mut filters = WhereClause::default();
    filters.add("stream_id = {}", Bind::Id(stream_id));
    Listing::of::<EntryRow>(filters, Order::asc("position", &["position"], &[]))
}

/// The bound tenant's timeline entries after `after`, oldest first, of the
/// given stream types (`property`, `deal`, `contact`); at most `limit`.
/// What live activity feeds resume from.
pub async fn since(
    conn: &mut PgConnection,
    after: i64,
    stream_types: &[String],
    limit: i64,
) -> Result<Vec<EntryRow>, Error> {
    Query::rows("WHERE position > $1 AND stream_type = ANY($2) ORDER BY position LIMIT $3")
        .bind(after)
        .bind(stream_types)
        .bind(limit)
        .all(conn, "read recent activity")
        .await
}

/// The position of the bound tenant's latest timeline entry (0 when none).
pub async fn latest_position(conn: &mut PgConnection) -> Result<i64, Error> {
    let (position,): (Option<i64>,) =
        sqlx::query_as("SELECT max(position) FROM rm_timeline.entries")
            .fetch_one(conn)
            .await
            .map_err(Error::db("read the latest activity position"))?;
    Ok(position.unwrap_or(0))
}
