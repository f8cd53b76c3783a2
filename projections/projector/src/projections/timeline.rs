//! The timeline read model: every event of a property, deal or contact in
//! words, with the display name of who did it (schema in
//! `migrations/projections/timeline.sql`).
//!
//! Names come from the tenant stream (`TenantRegistered`, `UserInvited`),
//! folded in position order together with the records' events, so an entry
//! names the actor as known at its position. The words of each context are
//! in a module of their own; contact entries never carry personal data
//! (names, addresses, message text), which stays in the communications
//! read model only.

mod contact;
mod deal;
mod property;

use super::decode::{big, decode, name_of};
use crate::projection::{ApplyError, Projection, Table};
use crate::rows;
use async_trait::async_trait;
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::Money;
use deedlog_read_model::timeline::{ActorRow, EntryRow, ScenarioNameRow};
use deedlog_read_model::Int64;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Timeline;

const TABLES: &[Table] = &[
    Table {
        name: "entries",
        key: &["position"],
    },
    Table {
        name: "actors",
        key: &["tenant_id", "user_id"],
    },
    Table {
        name: "scenario_names",
        key: &["deal_id", "scenario_id"],
    },
];

/// An event of the batch this projection reads.
// Lives for one batch; boxing the property event would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Decoded {
    Property(deedlog_properties_domain::Event),
    Deal(deedlog_deals_domain::Event),
    Contact(deedlog_communications_domain::Event),
    /// A user's display name from the tenant stream.
    Named {
        user: Uuid,
        display_name: String,
    },
}

#[async_trait]
impl Projection for Timeline {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn ddl(&self) -> &'static str {
        include_str!("../../../../migrations/projections/timeline.sql")
    }

    fn tables(&self) -> &'static [Table] {
        TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let decoded = decode_batch(events)?;
        if decoded.is_empty() {
            return Ok(());
        }

        let keys = actor_keys(&decoded);
        let mut names = Names {
            rows: load_actors(conn, &keys)
                .await?
                .into_iter()
                .map(|row| ((row.tenant_id, row.user_id), row))
                .collect(),
            changed: HashSet::new(),
        };
        let deal_ids = scenario_deals(&decoded);
        let mut scenarios = Scenarios {
            rows: rows::load::<ScenarioNameRow>(conn, "scenario_names", "deal_id", &deal_ids)
                .await?
                .into_iter()
                .map(|row| ((row.deal_id, row.scenario_id), row))
                .collect(),
            changed: HashSet::new(),
        };

        let mut entries = Vec::new();
        for (recorded, event) in &decoded {
            let tenant = recorded.tenant_id.as_uuid();
            let position = big(recorded.position);
            let words = Words {
                names: &names,
                tenant,
                position,
            };
            let summary = match event {
                Decoded::Named { user, display_name } => {
                    names.learn(tenant, *user, display_name, position);
                    continue;
                }
                Decoded::Property(event) => property::summary(event, &words),
                Decoded::Deal(event) => {
                    let deal = recorded.stream_id.as_uuid();
                    let summary =
                        deal::summary(event, &words, &|scenario| scenarios.name(deal, scenario));
                    scenarios.follow(tenant, deal, position, event);
                    summary
                }
                Decoded::Contact(event) => contact::summary(event),
            };
            entries.push(entry(recorded, &names, summary));
        }

        insert_entries(conn, &entries).await?;
        upsert_actors(conn, &names.changed_rows()).await?;
        upsert_scenarios(conn, &scenarios.changed_rows()).await?;
        Ok(())
    }
}

/// The batch's events of records and the tenant events that name users,
/// in position order.
fn decode_batch(events: &[RecordedEvent]) -> Result<Vec<(&RecordedEvent, Decoded)>, ApplyError> {
    use deedlog_kernel::stream_type;
    use deedlog_tenancy_domain::tenant::Event as Tenancy;
    let mut decoded = Vec::new();
    for recorded in events {
        let event = match recorded.stream_type.as_str() {
            stream_type::PROPERTY => Decoded::Property(decode(recorded)?),
            stream_type::DEAL => Decoded::Deal(decode(recorded)?),
            stream_type::CONTACT => Decoded::Contact(decode(recorded)?),
            // Only the events that carry a display name are read, so a
            // tenant event this code does not know never stops the timeline.
            stream_type::TENANT
                if matches!(
                    recorded.event_type.as_str(),
                    "TenantRegistered" | "UserInvited"
                ) =>
            {
                match decode::<Tenancy>(recorded)? {
                    Tenancy::TenantRegistered { first_admin, .. } => Decoded::Named {
                        user: first_admin.id.as_uuid(),
                        display_name: first_admin.display_name,
                    },
                    Tenancy::UserInvited { user, .. } => Decoded::Named {
                        user: user.id.as_uuid(),
                        display_name: user.display_name,
                    },
                    _ => continue,
                }
            }
            _ => continue,
        };
        decoded.push((recorded, event));
    }
    Ok(decoded)
}

/// The user id in an actor such as `user:<uuid>`; none for system actors.
fn actor_user(actor: &str) -> Option<Uuid> {
    actor
        .strip_prefix("user:")
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// Every (tenant, user) whose name the batch may need or learn.
fn actor_keys(decoded: &[(&RecordedEvent, Decoded)]) -> Vec<(Uuid, Uuid)> {
    let mut keys = HashSet::new();
    for (recorded, event) in decoded {
        let tenant = recorded.tenant_id.as_uuid();
        keys.extend(actor_user(&recorded.actor).map(|user| (tenant, user)));
        let users = match event {
            Decoded::Named { user, .. } => vec![*user],
            Decoded::Property(event) => property::users(event),
            Decoded::Deal(event) => deal::users(event),
            Decoded::Contact(_) => Vec::new(),
        };
        keys.extend(users.into_iter().map(|user| (tenant, user)));
    }
    let mut keys: Vec<_> = keys.into_iter().collect();
    keys.sort();
    keys
}

/// The deals whose scenario names the batch needs or changes.
fn scenario_deals(decoded: &[(&RecordedEvent, Decoded)]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    decoded
        .iter()
        .filter(
            |(_, event)| matches!(event, Decoded::Deal(event) if deal::touches_scenarios(event)),
        )
        .map(|(recorded, _)| recorded.stream_id.as_uuid())
        .filter(|id| seen.insert(*id))
        .collect()
}

fn entry(recorded: &RecordedEvent, names: &Names, summary: String) -> EntryRow {
    let tenant_id = recorded.tenant_id.as_uuid();
    let position = big(recorded.position);
    let actor_name = actor_user(&recorded.actor)
        .and_then(|user| names.known(tenant_id, user, position))
        .map(str::to_owned);
    let text = match &actor_name {
        Some(name) => format!("{summary} by {name}"),
        None => summary.clone(),
    };
    EntryRow {
        position: Int64(position),
        tenant_id,
        stream_id: recorded.stream_id.as_uuid(),
        stream_type: recorded.stream_type.clone(),
        version: big(recorded.version),
        occurred_at: recorded.occurred_at,
        event_type: recorded.event_type.clone(),
        actor: recorded.actor.clone(),
        actor_name,
        summary,
        text,
        correlation_id: recorded.correlation_id.as_uuid(),
        causation_id: recorded.causation_id.as_uuid(),
    }
}

/// Users' display names: those stored, and those the batch learns.
struct Names {
    rows: HashMap<(Uuid, Uuid), ActorRow>,
    changed: HashSet<(Uuid, Uuid)>,
}

impl Names {
    /// The user's name as known before `position`.
    fn known(&self, tenant: Uuid, user: Uuid, position: i64) -> Option<&str> {
        self.rows
            .get(&(tenant, user))
            .filter(|row| row.last_position < position)
            .map(|row| row.display_name.as_str())
    }

    fn learn(&mut self, tenant: Uuid, user: Uuid, display_name: &str, position: i64) {
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

    fn changed_rows(&self) -> Vec<&ActorRow> {
        let mut keys: Vec<_> = self.changed.iter().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}

/// The names of deal scenarios.
struct Scenarios {
    rows: HashMap<(Uuid, Uuid), ScenarioNameRow>,
    changed: HashSet<(Uuid, Uuid)>,
}

impl Scenarios {
    /// The name of the deal's scenario, if it was ever added.
    fn name(&self, deal: Uuid, scenario: Uuid) -> Option<String> {
        self.rows.get(&(deal, scenario)).map(|row| row.name.clone())
    }

    /// Remembers the name a scenario event gives.
    fn follow(
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

    fn changed_rows(&self) -> Vec<&ScenarioNameRow> {
        let mut keys: Vec<_> = self.changed.iter().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}

/// What the words of an event may look up: users' names as known at its
/// position.
pub(crate) struct Words<'a> {
    names: &'a Names,
    tenant: Uuid,
    position: i64,
}

impl Words<'_> {
    /// A user by display name, or `user <id>` when the name is not known.
    pub(crate) fn user(&self, user: Uuid) -> String {
        self.names
            .known(self.tenant, user, self.position)
            .map_or_else(|| format!("user {user}"), str::to_owned)
    }
}

/// A money amount as `450,000.00 EUR`.
pub(crate) fn money(value: &Money) -> String {
    value.to_string()
}

/// A stored enumeration value in words: `under_contract` → `under contract`.
pub(crate) fn words_of<T: Serialize>(value: &T) -> String {
    name_of(value).replace('_', " ")
}

/// Joins parts as `a, b and c`.
pub(crate) fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
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

/// Inserts the entries with one COPY. An event reaches here once: a dead
/// letter was never applied, so replaying it adds its entry for the first
/// time.
async fn insert_entries(conn: &mut PgConnection, entries: &[EntryRow]) -> Result<(), ApplyError> {
    crate::rows::insert(conn, "entries", entries).await
}

async fn upsert_actors(conn: &mut PgConnection, rows: &[&ActorRow]) -> Result<(), ApplyError> {
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

async fn upsert_scenarios(
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
