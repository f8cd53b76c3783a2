//! Deal scenarios' names as known at a position: loaded for the batch,
//! followed through scenario events, written back to `scenario_names`.

use crate::projection::ApplyError;
use crate::rows;
use deedlog_read_model::timeline::ScenarioNameRow;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The names of deal scenarios.
pub(super) struct Scenarios {
    rows: HashMap<(Uuid, Uuid), ScenarioNameRow>,
    changed: HashSet<(Uuid, Uuid)>,
}

impl Scenarios {
    /// The stored scenario names of the deals.
    pub(super) async fn load(conn: &mut PgConnection, deals: &[Uuid]) -> Result<Self, ApplyError> {
        Ok(Self {
            rows: rows::load::<ScenarioNameRow>(conn, "scenario_names", "deal_id", deals)
                .await?
                .into_iter()
                .map(|row| ((row.deal_id, row.scenario_id), row))
                .collect(),
            changed: HashSet::new(),
        })
    }

    /// The name of the deal's scenario, if it was ever added.
    pub(super) fn name(&self, deal: Uuid, scenario: Uuid) -> Option<String> {
        self.rows.get(&(deal, scenario)).map(|row| row.name.clone())
    }

    /// Remembers the name a scenario event gives.
    pub(super) fn follow(
        &mut self,
        tenant: Uuid,
        deal: Uuid,
        position: i64,
        event: &deedlog_deals_domain::Event,
    ) {
        use deedlog_deals_domain::Event;
        let (Event::ScenarioAdded {
            scenario_id, name, ..
        }
        | Event::ScenarioUpdated {
            scenario_id, name, ..
        }) = event
        else {
            return;
        };
        let row = self
            .rows
            .entry((deal, *scenario_id))
            .or_insert_with(|| ScenarioNameRow {
                tenant_id: tenant,
                deal_id: deal,
                scenario_id: *scenario_id,
                name: String::new(),
                last_position: 0,
            });
        if row.last_position >= position {
            return;
        }
        row.name = name.clone();
        row.last_position = position;
        self.changed.insert((deal, *scenario_id));
    }

    pub(super) fn changed_rows(&self) -> Vec<&ScenarioNameRow> {
        let mut keys: Vec<_> = self.changed.iter().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}

pub(super) async fn upsert(
    conn: &mut PgConnection,
    rows: &[&ScenarioNameRow],
) -> Result<(), ApplyError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO scenario_names SELECT * FROM json_populate_recordset(NULL::scenario_names, $1::json) \
         ON CONFLICT (deal_id, scenario_id) DO UPDATE \
         SET name = EXCLUDED.name, last_position = EXCLUDED.last_position",
    )
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await
    .map_err(ApplyError::db("write scenario names"))?;
    Ok(())
}
