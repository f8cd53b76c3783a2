//! Users' display names as known at a position: loaded for the batch,
//! learnt from tenant events, written back to `actors`.

use crate::projection::ApplyError;
use deedlog_read_model::timeline::ActorRow;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Users' display names: those stored, and those the batch learns.
pub(super) struct Names {
    rows: HashMap<(Uuid, Uuid), ActorRow>,
    changed: HashSet<(Uuid, Uuid)>,
}

impl Names {
    /// The stored names of the (tenant, user) keys.
    pub(super) async fn load(
        conn: &mut PgConnection,
        keys: &[(Uuid, Uuid)],
    ) -> Result<Self, ApplyError> {
        Ok(Self {
            rows: load_actors(conn, keys)
                .await?
                .into_iter()
                .map(|row| ((row.tenant_id, row.user_id), row))
                .collect(),
            changed: HashSet::new(),
        })
    }

    /// The user's name as known before `position`.
    pub(super) fn known(&self, tenant: Uuid, user: Uuid, position: i64) -> Option<&str> {
        self.rows
            .get(&(tenant, user))
            .filter(|row| row.last_position < position)
            .map(|row| row.display_name.as_str())
    }

    pub(super) fn learn(&mut self, tenant: Uuid, user: Uuid, display_name: &str, position: i64) {
        let row = self.rows.entry((tenant, user)).or_insert_with(|| ActorRow {
            tenant_id: tenant,
            user_id: user,
            display_name: String::new(),
            last_position: 0,
        });
        if row.last_position >= position {
            // Applied before (a replayed dead letter that had gone through).
            return;
        }
        row.display_name = display_name.to_owned();
        row.last_position = position;
        self.changed.insert((tenant, user));
    }

    pub(super) fn changed_rows(&self) -> Vec<&ActorRow> {
        let mut keys: Vec<_> = self.changed.iter().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}

async fn load_actors(
    conn: &mut PgConnection,
    keys: &[(Uuid, Uuid)],
) -> Result<Vec<ActorRow>, ApplyError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (tenants, users): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let json: Option<sqlx::types::Json<Vec<ActorRow>>> = sqlx::query_scalar(
        "SELECT json_agg(a) FROM actors a \
         JOIN unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, user_id) \
           ON a.tenant_id = k.tenant_id AND a.user_id = k.user_id",
    )
    .bind(&tenants)
    .bind(&users)
    .fetch_one(conn)
    .await
    .map_err(ApplyError::db("load actors"))?;
    Ok(json.map(|j| j.0).unwrap_or_default())
}

pub(super) async fn upsert(conn: &mut PgConnection, rows: &[&ActorRow]) -> Result<(), ApplyError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO actors SELECT * FROM json_populate_recordset(NULL::actors, $1::json) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE \
         SET display_name = EXCLUDED.display_name, last_position = EXCLUDED.last_position",
    )
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await
    .map_err(ApplyError::db("write actors"))?;
    Ok(())
}
