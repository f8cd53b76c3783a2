//! Deal scenarios' names as known at a position: loaded for the batch,
//! followed through scenario events, written back to `scenario_names`.

use super::known::Known;
use crate::projection::ApplyError;
use crate::rows;
use deedlog_read_model::timeline::ScenarioNameRow;
use sqlx::PgConnection;
use uuid::Uuid;

/// The names of deal scenarios.
pub(super) struct Scenarios(Known<ScenarioNameRow>);

impl Scenarios {
    /// The stored scenario names of the deals.
    pub(super) async fn load(conn: &mut PgConnection, deals: &[Uuid]) -> Result<Self, ApplyError> {
        let stored = rows::load(conn, "scenario_names", "deal_id", deals).await?;
        Ok(Self(Known::new(stored, |row: &ScenarioNameRow| {
            (row.deal_id, row.scenario_id)
        })))
    }

    /// The name of the deal's scenario, if it was ever added.
    pub(super) fn name(&self, deal: Uuid, scenario: Uuid) -> Option<String> {
        self.0.get(&(deal, scenario)).map(|row| row.name.clone())
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
        let new = || ScenarioNameRow {
            tenant_id: tenant,
            deal_id: deal,
            scenario_id: *scenario_id,
            name: String::new(),
            last_position: 0,
        };
        let key = (deal, *scenario_id);
        if let Some(row) = self.0.change(key, position, |r| &mut r.last_position, new) {
            row.name = name.clone();
        }
    }

    pub(super) fn changed_rows(&self) -> Vec<&ScenarioNameRow> {
        self.0.changed_rows()
    }
}

/// Writes `changed` names back to `scenario_names`.
pub(super) async fn upsert(
    conn: &mut PgConnection,
    changed: &[&ScenarioNameRow],
) -> Result<(), ApplyError> {
    rows::upsert(
        conn,
        "scenario_names",
        &["deal_id", "scenario_id"],
        &["name", "last_position"],
        changed,
        "write scenario names",
    )
    .await
}
