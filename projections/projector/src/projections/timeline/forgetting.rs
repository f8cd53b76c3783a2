//! What forgetting a contact or a user does to the timeline (ADR 0035):
//! the entries read as the erased events would have written them, so the
//! live timeline equals one rebuilt from the erased log.
//!
//! A contact's entries hold none of their data but whether they were
//! created with a postal address, which the erased `ContactCreated` no
//! longer has. A user's display name is in the entries they made
//! (`actor_name`, `text`), in the summaries that name them as an agent, and
//! in `actors`; the erased `TenantRegistered` or `UserInvited` would have
//! taught the timeline the name `[erased]` instead.

use super::contact;
use crate::projection::ApplyError;
use deedlog_kernel::privacy::ERASED;
use sqlx::PgConnection;
use uuid::Uuid;

/// The event types whose summaries name users by display name.
const NAMING: [&str; 4] = [
    "DealOpened",
    "DealReassigned",
    "PropertyCreated",
    "AgentAssigned",
];

/// Rewrites the `ContactCreated` entry of a forgotten contact.
pub(super) async fn contact(conn: &mut PgConnection, contact: Uuid) -> Result<(), ApplyError> {
    let created: Vec<(i64, String)> = sqlx::query_as(
        "SELECT position, summary FROM entries \
         WHERE stream_id = $1 AND event_type = 'ContactCreated'",
    )
    .bind(contact)
    .fetch_all(&mut *conn)
    .await
    .map_err(ApplyError::db("read a forgotten contact's entries"))?;
    let rewritten = created
        .into_iter()
        .map(|(position, summary)| (position, contact::created_when_forgotten(&summary)))
        .collect();
    set_summaries(conn, rewritten).await
}

/// Erases a forgotten user's display name from `actors` and the entries.
pub(super) async fn user(
    conn: &mut PgConnection,
    tenant: Uuid,
    user: Uuid,
) -> Result<(), ApplyError> {
    let context = "erase a forgotten user's name";
    let known: Option<(String, i64)> = sqlx::query_as(
        "SELECT display_name, last_position FROM actors WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await
    .map_err(ApplyError::db(context))?;
    // A name never learnt was never written.
    let Some((name, learnt_at)) = known else {
        return Ok(());
    };
    sqlx::query("UPDATE actors SET display_name = $3 WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .bind(ERASED)
        .execute(&mut *conn)
        .await
        .map_err(ApplyError::db(context))?;
    sqlx::query(
        "UPDATE entries SET actor_name = $3, text = summary || ' by ' || $3 \
         WHERE tenant_id = $1 AND actor = $2 AND actor_name IS NOT NULL",
    )
    .bind(tenant)
    .bind(format!("user:{user}"))
    .bind(ERASED)
    .execute(&mut *conn)
    .await
    .map_err(ApplyError::db(context))?;
    // Only entries after the name was learnt could use it.
    let naming: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT position, event_type, summary FROM entries \
         WHERE tenant_id = $1 AND position > $2 AND event_type = ANY($3) \
           AND strpos(summary, $4) > 0",
    )
    .bind(tenant)
    .bind(learnt_at)
    .bind(&NAMING[..])
    .bind(&name)
    .fetch_all(&mut *conn)
    .await
    .map_err(ApplyError::db(context))?;
    let rewritten = naming
        .into_iter()
        .filter_map(|(position, event_type, summary)| {
            erase_name(&event_type, &summary, &name).map(|summary| (position, summary))
        })
        .collect();
    set_summaries(conn, rewritten).await
}

/// Sets the summaries of the entries at the positions, and their texts.
async fn set_summaries(
    conn: &mut PgConnection,
    summaries: Vec<(i64, String)>,
) -> Result<(), ApplyError> {
    if summaries.is_empty() {
        return Ok(());
    }
    let (positions, summaries): (Vec<i64>, Vec<String>) = summaries.into_iter().unzip();
    sqlx::query(
        "UPDATE entries e SET summary = k.summary, \
             text = CASE WHEN e.actor_name IS NULL THEN k.summary \
                         ELSE k.summary || ' by ' || e.actor_name END \
         FROM unnest($1::bigint[], $2::text[]) AS k(position, summary) \
         WHERE e.position = k.position",
    )
    .bind(&positions)
    .bind(&summaries)
    .execute(conn)
    .await
    .map_err(ApplyError::db("rewrite entries of a forgotten person"))?;
    Ok(())
}

/// The summary of an `event_type` entry with `name` in each of its user
/// slots replaced by `[erased]`; `None` when no slot holds `name`.
///
/// The slots are those `property::summary` and `deal::summary` fill with
/// `Words::user`. A slot is recognised by the name it holds, so another
/// user of the same tenant with the very same display name, named in the
/// same entry, would read erased too.
pub(super) fn erase_name(event_type: &str, summary: &str, name: &str) -> Option<String> {
    match event_type {
        "DealOpened" => {
            let prefix = "deal opened at lead, agent ";
            let tail = summary.strip_prefix(prefix)?.strip_prefix(name)?;
            (tail.is_empty() || tail.starts_with(", ")).then(|| format!("{prefix}{ERASED}{tail}"))
        }
        "PropertyCreated" => {
            let head = summary.strip_suffix(name)?.strip_suffix(", agent ")?;
            Some(format!("{head}, agent {ERASED}"))
        }
        "AgentAssigned" => match summary.strip_prefix("agent changed from ") {
            Some(_) => from_to("agent changed from ", summary, name),
            None => {
                let who = summary.strip_prefix("agent ")?.strip_suffix(" assigned")?;
                (who == name).then(|| format!("agent {ERASED} assigned"))
            }
        },
        "DealReassigned" => from_to("deal reassigned from ", summary, name),
        _ => None,
    }
}

/// `{prefix}{from} to {to}` with `name` erased from either side.
fn from_to(prefix: &str, summary: &str, name: &str) -> Option<String> {
    let rest = summary.strip_prefix(prefix)?;
    let (from, to) = match rest.strip_prefix(name).and_then(|r| r.strip_prefix(" to ")) {
        Some(to) => (name, to),
        None => (rest.strip_suffix(name)?.strip_suffix(" to ")?, name),
    };
    let slot = |who: &str| {
        if who == name {
            ERASED.to_owned()
        } else {
            who.to_owned()
        }
    };
    Some(format!("{prefix}{} to {}", slot(from), slot(to)))
}

#[cfg(test)]
mod tests {
    use super::erase_name;

    #[test]
    fn a_name_is_erased_from_the_slots_that_hold_it_and_nowhere_else() {
        let cases = [
            (
                "DealOpened",
                "deal opened at lead, agent Ann Lee",
                Some("deal opened at lead, agent [erased]"),
            ),
            (
                "DealOpened",
                "deal opened at lead, agent Ann Lee, offer 1.00 EUR",
                Some("deal opened at lead, agent [erased], offer 1.00 EUR"),
            ),
            ("DealOpened", "deal opened at lead, agent Ann Leeds", None),
            (
                "PropertyCreated",
                "property created: house at Ann Lee 1, 10435 Berlin, DE, agent Ann Lee",
                Some("property created: house at Ann Lee 1, 10435 Berlin, DE, agent [erased]"),
            ),
            (
                "PropertyCreated",
                "property created: house at Ann Lee 1, 10435 Berlin, DE",
                None,
            ),
            (
                "AgentAssigned",
                "agent Ann Lee assigned",
                Some("agent [erased] assigned"),
            ),
            ("AgentAssigned", "agent Bo assigned", None),
            (
                "AgentAssigned",
                "agent changed from Ann Lee to Bo",
                Some("agent changed from [erased] to Bo"),
            ),
            (
                "DealReassigned",
                "deal reassigned from Bo to Ann Lee",
                Some("deal reassigned from Bo to [erased]"),
            ),
            (
                "DealReassigned",
                "deal reassigned from Ann Lee to Ann Lee",
                Some("deal reassigned from [erased] to [erased]"),
            ),
            ("DealReassigned", "deal reassigned from Bo to Cy", None),
            (
                "DealLost",
                "deal lost from lead (reason: \"Ann Lee\")",
                None,
            ),
        ];
        for (event_type, summary, expected) in cases {
            assert_eq!(
                erase_name(event_type, summary, "Ann Lee").as_deref(),
                expected,
                "{event_type}: {summary}"
            );
        }
    }
}
