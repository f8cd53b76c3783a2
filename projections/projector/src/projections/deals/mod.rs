//! The deals read model: one row per deal (detail and pipeline board), every
//! stage change, and the deals' what-if scenarios with their figures
//! (schema in `migrations/projections/deals.sql`).
//!
//! A batch rebuilds each touched deal's domain state from its row (and its
//! scenarios) and folds the events with the domain's own `evolve`, so the
//! stage, the probability (an explicit one holds until the next stage
//! change), the expected value and the scenario figures are exactly what
//! the deals context itself derives.

mod checks;
mod fold;
mod working;

use super::decode::{stream_ids, Decoded};
use crate::projection::ApplyError;
use crate::rows;
use deedlog_deals_domain::Event;
use deedlog_read_model::deals::{DealRow, ScenarioRow};
use fold::apply_one;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;
use working::Working;

projection!(Deals, "deals", stream DEAL of Event, apply);

async fn apply(
    conn: &mut PgConnection,
    decoded: &Decoded<'_, Event>,
    _keys: crate::projection::Keys<'_>,
) -> Result<(), ApplyError> {
    let ids = stream_ids(decoded);
    let loaded = rows::load::<DealRow>(conn, "deals", "deal_id", &ids).await?;
    // Only deals that keep scenarios need them: a deal's state is whole
    // without the scenarios table when it has none.
    let with_scenarios: Vec<Uuid> = loaded
        .iter()
        .filter(|row| row.scenario_count > 0)
        .map(|row| row.deal_id)
        .collect();
    let mut kept: HashMap<Uuid, Vec<ScenarioRow>> = HashMap::new();
    for scenario in rows::load::<ScenarioRow>(conn, "scenarios", "deal_id", &with_scenarios).await?
    {
        kept.entry(scenario.deal_id).or_default().push(scenario);
    }
    let mut deals = HashMap::with_capacity(ids.len());
    for row in loaded {
        let scenarios = kept.remove(&row.deal_id).unwrap_or_default();
        let id = row.deal_id;
        match Working::from_rows(row, scenarios) {
            Ok(working) => {
                deals.insert(id, working);
            }
            Err(reason) => {
                let first = decoded
                    .iter()
                    .find(|(e, _)| e.stream_id.as_uuid() == id)
                    .map(|(e, _)| *e)
                    .expect("every loaded row is one of the batch's deals");
                return Err(ApplyError::event(
                    first,
                    format!("the deal's stored row is unreadable: {reason}"),
                ));
            }
        }
    }
    let mut history = Vec::new();
    for (recorded, event) in decoded {
        apply_one(&mut deals, &mut history, recorded, event)?;
    }
    let mut written = Vec::with_capacity(ids.len());
    let mut rewritten = Vec::new();
    let mut scenario_rows = Vec::new();
    for id in &ids {
        let Some(working) = deals.remove(id) else {
            continue;
        };
        // A figure beyond its column is the deal's last event's error.
        let fail = |reason: String| match decoded
            .iter()
            .rev()
            .find(|(e, _)| e.stream_id.as_uuid() == *id)
        {
            Some((event, _)) => ApplyError::event(event, reason),
            None => ApplyError::Event {
                position: 0,
                event_type: String::new(),
                reason,
            },
        };
        if working.scenarios_need_writing() {
            rewritten.push(*id);
            scenario_rows.extend(working.scenario_rows().map_err(fail)?);
        }
        written.push(working.into_row().map_err(fail)?);
    }
    rows::replace(conn, "deals", "deal_id", &ids, &written).await?;
    rows::insert(conn, "stage_history", &history).await?;
    rows::replace(conn, "scenarios", "deal_id", &rewritten, &scenario_rows).await?;
    Ok(())
}
