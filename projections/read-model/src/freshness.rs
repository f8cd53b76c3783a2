//! How far each read model has come in the log, and waiting for it to
//! reach a position: read-your-writes after a command.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A projection, i.e. a read-model schema `rm_<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    Properties,
    Deals,
    Communications,
    Tenancy,
    Analytics,
    Timeline,
    Notifications,
}

impl Projection {
    /// Every projection.
    pub const ALL: [Self; 7] = [
        Self::Properties,
        Self::Deals,
        Self::Communications,
        Self::Tenancy,
        Self::Analytics,
        Self::Timeline,
        Self::Notifications,
    ];

    /// The projection's name, as the projector and `deedlog rebuild` use it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Properties => "properties",
            Self::Deals => "deals",
            Self::Communications => "communications",
            Self::Tenancy => "tenancy",
            Self::Analytics => "analytics",
            Self::Timeline => "timeline",
            Self::Notifications => "notifications",
        }
    }

    /// The projection whose live schema is `schema` (`rm_<name>`); None for
    /// any other schema (a rebuild's or a reconciliation's aside).
    pub fn of_live_schema(schema: &str) -> Option<Self> {
        let name = schema.strip_prefix("rm_")?;
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Reads the checkpoint: one static statement per schema, since a
    /// schema name cannot be bound.
    fn checkpoint_sql(self) -> &'static str {
        match self {
            Self::Properties => "SELECT position FROM rm_properties.checkpoint",
            Self::Deals => "SELECT position FROM rm_deals.checkpoint",
            Self::Communications => "SELECT position FROM rm_communications.checkpoint",
            Self::Tenancy => "SELECT position FROM rm_tenancy.checkpoint",
            Self::Analytics => "SELECT position FROM rm_analytics.checkpoint",
            Self::Timeline => "SELECT position FROM rm_timeline.checkpoint",
            Self::Notifications => "SELECT position FROM rm_notifications.checkpoint",
        }
    }
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Projection {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                Error::bad_input(
                    "projection",
                    format!(
                        "there is no projection \"{name}\"; there are properties, deals, \
                         communications, tenancy, analytics, timeline and notifications"
                    ),
                )
            })
    }
}

/// The channel on which every change to a live read model is announced,
/// delivered when (and only if) the transaction that made it commits. The
/// payload is the schema's name, then, when the change moved its
/// checkpoint, a space and the new position: `rm_properties 4711` after a
/// batch, `rm_properties` alone after a change that moved no checkpoint
/// (a rebuild swapped in, a dead letter replayed, a Kafka partition's
/// batch). The gateway's response cache keys on them (ADR 0041).
pub const CHANGES_CHANNEL: &str = "deedlog_checkpoints";

/// A change announced on [`CHANGES_CHANNEL`], parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub projection: Projection,
    /// The checkpoint it moved to, if it moved.
    pub position: Option<u64>,
}

impl Change {
    /// Parses a payload; None for a schema that is not a live read model
    /// or a payload of another shape.
    pub fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(' ');
        let projection = Projection::of_live_schema(parts.next()?)?;
        let position = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            projection,
            position,
        })
    }
}

/// The last log position `projection` has applied (0: none). The
/// checkpoint is readable by every role, tenant or none.
pub async fn freshness(conn: &mut PgConnection, projection: Projection) -> Result<u64, Error> {
    let position: i64 = sqlx::query_scalar(projection.checkpoint_sql())
        .fetch_one(conn)
        .await
        .map_err(Error::db("read a projection checkpoint"))?;
    // Log positions start at 1; the checkpoint is never negative.
    Ok(deedlog_kernel::number::fit(
        "checkpoint position",
        position,
    )?)
}

/// How long [`wait_for`] pauses between two looks at the checkpoints.
const POLL: Duration = Duration::from_millis(20);

/// Waits until every one of `projections` has applied the log up to
/// `position` (what an append returned), so that a read right after a
/// write sees it. Fails with [`Error::NotCaughtUp`], naming the first
/// projection still behind and both positions, once `timeout` has passed.
///
/// It polls, pausing with `pg_sleep` on the one connection it holds: the
/// crate stays free of any async runtime of its own.
pub async fn wait_for(
    pool: &PgPool,
    projections: &[Projection],
    position: u64,
    timeout: Duration,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("wait for the read models"))?;
    let mut pending: Vec<Projection> = projections.to_vec();
    loop {
        let mut behind = None;
        let mut still = Vec::with_capacity(pending.len());
        for projection in pending {
            let reached = freshness(&mut conn, projection).await?;
            if reached < position {
                behind.get_or_insert((projection, reached));
                still.push(projection);
            }
        }
        let Some((projection, reached)) = behind else {
            return Ok(());
        };
        pending = still;
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(Error::NotCaughtUp {
                projection: projection.name(),
                awaited: position,
                reached,
                waited,
            });
        }
        let pause = POLL.min(timeout - waited);
        sqlx::query("SELECT pg_sleep($1)")
            .bind(pause.as_secs_f64())
            .execute(&mut *conn)
            .await
            .map_err(Error::db("wait for the read models"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_of_live_schemas_are_read_and_others_ignored() {
        assert_eq!(
            Change::parse("rm_deals 42"),
            Some(Change {
                projection: Projection::Deals,
                position: Some(42)
            })
        );
        assert_eq!(
            Change::parse("rm_timeline"),
            Some(Change {
                projection: Projection::Timeline,
                position: None
            })
        );
        for other in [
            "rm_deals__rebuild 42",
            "deals 42",
            "rm_deals x",
            "rm_deals 1 2",
            "",
        ] {
            assert_eq!(Change::parse(other), None, "{other:?}");
        }
    }
}
