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
mod forgetting;
mod known;
mod names;
mod property;
mod scenarios;
mod words;

use super::decode::{big, decode};
use crate::projection::ApplyError;
use deedlog_eventstore::RecordedEvent;
use deedlog_read_model::timeline::EntryRow;
use deedlog_read_model::Int64;
use names::Names;
use scenarios::Scenarios;
use sqlx::PgConnection;
use std::collections::HashSet;
use uuid::Uuid;
use words::{and_list, money, words_of, Words};

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
    /// A user forgotten on the tenant stream (`UserForgotten`).
    Forgotten {
        user: Uuid,
    },
}

projection!(Timeline, "timeline", apply);

async fn apply(conn: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let decoded = decode_batch(events)?;
    if decoded.is_empty() {
        return Ok(());
    }

    let keys = actor_keys(&decoded);
    let mut names = Names::load(conn, &keys).await?;
    let deal_ids = scenario_deals(&decoded);
    let mut scenarios = Scenarios::load(conn, &deal_ids).await?;

    let mut entries = Vec::new();
    // (tenant, user) and contacts forgotten in the batch, erased once the
    // batch's own entries and names are written.
    let mut forgotten_users = Vec::new();
    let mut forgotten_contacts = Vec::new();
    for (recorded, event) in &decoded {
        let tenant = recorded.tenant_id.as_uuid();
        let position = big(recorded.position);
        let words = Words::new(&names, tenant, position);
        let summary = match event {
            Decoded::Named { user, display_name } => {
                names.learn(tenant, *user, display_name, position);
                continue;
            }
            Decoded::Forgotten { user } => {
                forgotten_users.push((tenant, *user));
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
            Decoded::Contact(event) => {
                if let deedlog_communications_domain::Event::ContactForgotten {} = event {
                    forgotten_contacts.push(recorded.stream_id.as_uuid());
                }
                contact::summary(event)
            }
        };
        entries.push(entry(recorded, &names, summary));
    }

    insert_entries(conn, &entries).await?;
    names::upsert(conn, &names.changed_rows()).await?;
    scenarios::upsert(conn, &scenarios.changed_rows()).await?;
    for contact in forgotten_contacts {
        forgetting::contact(conn, contact).await?;
    }
    for (tenant, user) in forgotten_users {
        forgetting::user(conn, tenant, user).await?;
    }
    Ok(())
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
            // Only the events that carry or forget a display name are read, so a
            // tenant event this code does not know never stops the timeline.
            stream_type::TENANT
                if matches!(
                    recorded.event_type.as_str(),
                    "TenantRegistered" | "UserInvited" | "UserForgotten"
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
                    Tenancy::UserForgotten { user } => Decoded::Forgotten {
                        user: user.as_uuid(),
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
            Decoded::Forgotten { .. } => Vec::new(),
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

/// Inserts the entries with one COPY. An event reaches here once: a dead
/// letter was never applied, so replaying it adds its entry for the first
/// time.
async fn insert_entries(conn: &mut PgConnection, entries: &[EntryRow]) -> Result<(), ApplyError> {
    crate::rows::insert(conn, "entries", entries).await
}
