//! `pipeline_by_day`: end-of-day snapshots of each tenant's open pipeline
//! per stage and currency, stored only for the days on which it changed.
//!
//! The first change of a tenant on day D copies the tenant's latest
//! snapshot before D (its rows that still count a deal) to D; every change
//! is then a delta: the deal's old contribution is taken out and its new
//! one added, on D and on any later snapshot day already stored (an event
//! whose clock is behind one already applied, around midnight). A row that
//! drops to zero deals stays in its day's snapshot, so that a day on which
//! a stage emptied is a snapshot day too; later days do not copy it. The
//! pipeline on day X is therefore the snapshot of the latest day <= X.

use crate::projection::ApplyError;
use crate::rows;
use chrono::NaiveDate;
use deedlog_read_model::analytics::PipelineRow;
use deedlog_read_model::Int64;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const TABLE: &str = "pipeline_by_day";
const KEY: &[&str] = &["tenant_id", "day", "stage", "currency"];

/// What one open deal adds to its stage's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub stage: &'static str,
    pub currency: String,
    pub offer_minor: i64,
    pub weighted_minor: i64,
}

/// A deal's contribution before and after one of its events, on the UTC
/// date of that event.
#[derive(Debug)]
pub struct Change {
    pub tenant_id: Uuid,
    pub day: NaiveDate,
    pub before: Option<Contribution>,
    pub after: Option<Contribution>,
}

/// Rows of one snapshot day by (stage, currency).
type Snapshot = BTreeMap<(String, String), PipelineRow>;

/// The stored snapshots of the tenants a batch touches, from the latest day
/// at or before each tenant's earliest change on.
#[derive(Default)]
struct Snapshots {
    days: BTreeMap<Uuid, BTreeMap<NaiveDate, Snapshot>>,
    touched: BTreeSet<(Uuid, NaiveDate, String, String)>,
}

/// Applies the batch's changes, in order: one statement loads the
/// snapshots they may touch, two write back the rows that changed.
pub async fn write(conn: &mut PgConnection, changes: &[Change]) -> Result<(), ApplyError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut snapshots = Snapshots::default();
    for row in load(conn, changes).await? {
        snapshots
            .days
            .entry(row.tenant_id)
            .or_default()
            .entry(row.day)
            .or_default()
            .insert((row.stage.clone(), row.currency.clone()), row);
    }
    for change in changes {
        snapshots.apply(change);
    }
    let written: Vec<PipelineRow> = snapshots
        .touched
        .iter()
        .filter_map(|(tenant, day, stage, currency)| {
            snapshots
                .days
                .get(tenant)?
                .get(day)?
                .get(&(stage.clone(), currency.clone()))
                .cloned()
        })
        .collect();
    rows::replace_by(conn, TABLE, KEY, &written).await
}

/// Every stored row of each touched tenant from the latest snapshot day at
/// or before its earliest change in the batch.
async fn load(conn: &mut PgConnection, changes: &[Change]) -> Result<Vec<PipelineRow>, ApplyError> {
    #[derive(Serialize)]
    struct From {
        tenant_id: Uuid,
        day: NaiveDate,
    }
    let mut earliest: BTreeMap<Uuid, NaiveDate> = BTreeMap::new();
    for change in changes {
        let day = earliest.entry(change.tenant_id).or_insert(change.day);
        *day = (*day).min(change.day);
    }
    let from: Vec<From> = earliest
        .into_iter()
        .map(|(tenant_id, day)| From { tenant_id, day })
        .collect();
    let json: Option<sqlx::types::Json<Vec<PipelineRow>>> = sqlx::query_scalar(
        "SELECT json_agg(p) FROM json_to_recordset($1::json) AS q(tenant_id uuid, day date) \
         JOIN pipeline_by_day p ON p.tenant_id = q.tenant_id AND p.day >= COALESCE( \
           (SELECT max(b.day) FROM pipeline_by_day b WHERE b.tenant_id = q.tenant_id AND b.day <= q.day), \
           q.day)",
    )
    .bind(sqlx::types::Json(&from))
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db("load pipeline snapshots"))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

impl Snapshots {
    fn apply(&mut self, change: &Change) {
        if change.before == change.after {
            return;
        }
        let tenant = change.tenant_id;
        let days = self.days.entry(tenant).or_default();
        if !days.contains_key(&change.day) {
            let copied: Snapshot = days
                .range(..change.day)
                .next_back()
                .map(|(_, latest)| {
                    latest
                        .iter()
                        .filter(|(_, row)| row.counts_something())
                        .map(|(key, row)| {
                            let row = PipelineRow {
                                day: change.day,
                                ..row.clone()
                            };
                            (key.clone(), row)
                        })
                        .collect()
                })
                .unwrap_or_default();
            for (stage, currency) in copied.keys() {
                self.touched
                    .insert((tenant, change.day, stage.clone(), currency.clone()));
            }
            days.insert(change.day, copied);
        }
        for (day, snapshot) in days.range_mut(change.day..) {
            let deltas = [(&change.before, -1), (&change.after, 1)];
            for (contribution, sign) in deltas {
                let Some(c) = contribution else { continue };
                let key = (c.stage.to_owned(), c.currency.clone());
                let row = snapshot.entry(key).or_insert_with(|| PipelineRow {
                    tenant_id: tenant,
                    day: *day,
                    stage: c.stage.to_owned(),
                    currency: c.currency.clone(),
                    deal_count: 0,
                    offer_total_minor: Int64(0),
                    weighted_total_minor: Int64(0),
                });
                row.deal_count = row.deal_count.saturating_add(sign);
                row.offer_total_minor = row
                    .offer_total_minor
                    .saturating_add(Int64(sign.saturating_mul(c.offer_minor)));
                row.weighted_total_minor = row
                    .weighted_total_minor
                    .saturating_add(Int64(sign.saturating_mul(c.weighted_minor)));
                self.touched
                    .insert((tenant, *day, c.stage.to_owned(), c.currency.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    fn lead(offer: i64) -> Option<Contribution> {
        Some(Contribution {
            stage: "lead",
            currency: "EUR".into(),
            offer_minor: offer,
            weighted_minor: offer / 20,
        })
    }

    fn qualified(offer: i64) -> Option<Contribution> {
        Some(Contribution {
            stage: "qualified",
            currency: "EUR".into(),
            offer_minor: offer,
            weighted_minor: offer / 10,
        })
    }

    /// A change of a tenant's pipeline: (day, before, after).
    type Step = (u32, Option<Contribution>, Option<Contribution>);

    /// The snapshots after applying `steps` of `tenant`, in order.
    fn applied(tenant: Uuid, steps: Vec<Step>) -> Snapshots {
        let mut s = Snapshots::default();
        for (d, before, after) in steps {
            s.apply(&Change {
                tenant_id: tenant,
                day: day(d),
                before,
                after,
            });
        }
        s
    }

    /// (day, stage, deals, offer total) of every stored row, in order.
    fn rows(s: &Snapshots, tenant: Uuid) -> Vec<(u32, String, i64, i64)> {
        use chrono::Datelike;
        s.days[&tenant]
            .iter()
            .flat_map(|(d, snapshot)| {
                snapshot.values().map(|r| {
                    (
                        d.day(),
                        r.stage.clone(),
                        r.deal_count,
                        r.offer_total_minor.0,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn a_day_copies_the_latest_earlier_snapshot_then_applies_the_delta() {
        let tenant = Uuid::from_u128(1);
        let s = applied(
            tenant,
            vec![
                (1, None, lead(1000)),
                (1, None, lead(3000)),
                (3, lead(1000), qualified(1000)),
                (3, lead(3000), None),
                (5, None, lead(500)),
                // A change for a day that no longer changes anything is no change.
                (7, lead(500), lead(500)),
            ],
        );
        assert_eq!(
            rows(&s, tenant),
            vec![
                (1, "lead".into(), 2, 4000),
                (3, "lead".into(), 0, 0),
                (3, "qualified".into(), 1, 1000),
                // The emptied lead row stays on day 3 only.
                (5, "lead".into(), 1, 500),
                (5, "qualified".into(), 1, 1000),
            ]
        );
        assert_eq!(s.touched.len(), 5);
    }

    #[test]
    fn a_change_behind_the_latest_day_also_reaches_the_later_snapshots() {
        let tenant = Uuid::from_u128(2);
        let s = applied(
            tenant,
            vec![
                (1, None, lead(1000)),
                (3, None, lead(2000)),
                (2, lead(1000), qualified(1000)),
            ],
        );
        assert_eq!(
            rows(&s, tenant),
            vec![
                (1, "lead".into(), 1, 1000),
                (2, "lead".into(), 0, 0),
                (2, "qualified".into(), 1, 1000),
                (3, "lead".into(), 1, 2000),
                (3, "qualified".into(), 1, 1000),
            ]
        );
    }
}
