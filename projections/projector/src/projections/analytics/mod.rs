//! The analytics read model (schema in `migrations/projections/analytics.sql`):
//! pipeline value by stage over time, the conversion funnel, the agent
//! leaderboard, asking-price changes and messages per channel and week.
//!
//! It reads three stream types: `deal` (the deal's state in `deal_state`
//! turns each event into deltas of the pipeline, funnel and leaderboard),
//! `property` (asking-price changes) and `contact` (messages). A batch
//! loads every row it touches with one statement per table, folds all its
//! events in memory and writes each touched row back once.
//!
//! Days and weeks are those of the event's `occurred_at` in UTC; weeks
//! start on Monday.

mod activity;
mod counters;
mod deals;
mod pipeline;

use super::decode::events_of;
use crate::projection::ApplyError;
use counters::Deltas;
use deedlog_eventstore::RecordedEvent;
use deedlog_read_model::analytics::{MessageWeekRow, PriceChangeWeekRow};
use sqlx::PgConnection;

pub use activity::week_start;
pub use deals::NO_CURRENCY;

// Counts only: it reads no personal field, so a rebuild opens none.
projection!(Analytics, "analytics", apply, opens []);

async fn apply(conn: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let deal_events =
        events_of::<deedlog_deals_domain::Event>(events, deedlog_kernel::stream_type::DEAL)?;
    let mut prices = Deltas::<PriceChangeWeekRow>::default();
    activity::price_changes(events, &mut prices)?;
    let mut messages = Deltas::<MessageWeekRow>::default();
    activity::messages(events, &mut messages)?;

    let mut effects = deals::DealEffects::default();
    deals::apply(conn, &deal_events, &mut effects).await?;
    pipeline::write(conn, &effects.pipeline).await?;
    effects.funnel.write(conn).await?;
    effects.leaderboard.write(conn).await?;
    prices.write(conn).await?;
    messages.write(conn).await
}
