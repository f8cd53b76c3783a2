//! Users' display names as known at a position: loaded for the batch,
//! learnt from tenant events, written back to `actors`.

use super::known::Known;
use crate::projection::ApplyError;
use crate::rows;
use deedlog_read_model::timeline::ActorRow;
use sqlx::PgConnection;
use uuid::Uuid;

/// Users' display names: those stored, and those the batch learns.
pub(super) struct Names(Known<ActorRow>);

impl Names {
    /// The stored names of the (tenant, user) keys.
    pub(super) async fn load(
        conn: &mut PgConnection,
        keys: &[(Uuid, Uuid)],
    ) -> Result<Self, ApplyError> {
        let key = ["tenant_id", "user_id"];
        let stored = rows::load_pairs(conn, "actors", key, keys, "load actors").await?;
        Ok(Self(Known::new(stored, |row: &ActorRow| {
            (row.tenant_id, row.user_id)
        })))
    }

    /// The user's name as known before `position`.
    pub(super) fn known(&self, tenant: Uuid, user: Uuid, position: i64) -> Option<&str> {
        self.0
            .get(&(tenant, user))
            .filter(|row| row.last_position < position)
            .map(|row| row.display_name.as_str())
    }

    pub(super) fn learn(&mut self, tenant: Uuid, user: Uuid, display_name: &str, position: i64) {
        let new = || ActorRow {
            tenant_id: tenant,
            user_id: user,
            display_name: String::new(),
            last_position: 0,
        };
        if let Some(row) = self
            .0
            .change((tenant, user), position, |r| &mut r.last_position, new)
        {
            row.display_name = display_name.to_owned();
        }
    }

    pub(super) fn changed_rows(&self) -> Vec<&ActorRow> {
        self.0.changed_rows()
    }
}

/// Writes `changed` names back to `actors`.
pub(super) async fn upsert(
    conn: &mut PgConnection,
    changed: &[&ActorRow],
) -> Result<(), ApplyError> {
    rows::upsert(
        conn,
        "actors",
        &["tenant_id", "user_id"],
        &["display_name", "last_position"],
        changed,
        "write actors",
    )
    .await
}
