//! Reads and writes of rows keyed by (contact, message or conversation),
//! and the pause shown on every conversation of a contact.

use super::*;

/// A contact's pause as the conversations of the contact show it.
#[derive(Debug, Serialize)]
pub(super) struct PauseRow {
    pub(super) contact_id: Uuid,
    pub(super) status: &'static str,
    pub(super) paused_since: Option<DateTime<Utc>>,
}

/// Loads the rows of `table` whose (`contact_id`, `column`) is one of `keys`.
///
/// `table` and `column` are static names written in this module, never input.
pub(super) async fn load_pairs<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    keys: &[Key],
) -> Result<Vec<T>, ApplyError> {
    let key = ["contact_id", column];
    let context = "load read-model rows by contact and id";
    rows::load_pairs(conn, table, key, keys, context).await
}

/// Deletes the rows of `table` whose (`contact_id`, `column`) is one of `keys`.
pub(super) async fn delete_pairs(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    keys: &[Key],
) -> Result<(), ApplyError> {
    let key = ["contact_id", column];
    let context = "delete read-model rows by contact and id";
    rows::delete_pairs(conn, table, key, keys, context).await
}

/// Shows each contact's pause on every conversation of the contact, those
/// the batch did not touch included.
pub(super) async fn set_pauses(
    conn: &mut PgConnection,
    pauses: &[PauseRow],
) -> Result<(), ApplyError> {
    if pauses.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE conversations c SET status = k.status, paused_since = k.paused_since \
         FROM json_to_recordset($1::json) AS k(contact_id uuid, status text, paused_since timestamptz) \
         WHERE c.contact_id = k.contact_id \
           AND (c.status, c.paused_since) IS DISTINCT FROM (k.status, k.paused_since)",
    )
    .bind(sqlx::types::Json(pauses))
    .execute(conn)
    .await
    .map_err(ApplyError::db("show contacts' pauses on their conversations"))?;
    Ok(())
}

/// Erases the message texts of forgotten `contacts`, those the batch did
/// not touch included: each subject, body and bounce detail that holds
/// something reads [`ERASED`](deedlog_kernel::privacy::ERASED), as the
/// erased `MessageQueued`, `ReplyReceived` and `MessageBounced` would have
/// left it; a null stays null. Positions and times stay: the log did not
/// change these rows.
pub(super) async fn erase_messages(
    conn: &mut PgConnection,
    contacts: &[Uuid],
) -> Result<(), ApplyError> {
    if contacts.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE messages SET \
             subject = CASE WHEN subject IS NULL THEN NULL ELSE $2 END, \
             body = CASE WHEN body IS NULL THEN NULL ELSE $2 END, \
             bounce_detail = CASE WHEN bounce_detail IS NULL THEN NULL ELSE $2 END \
         WHERE contact_id = ANY($1)",
    )
    .bind(contacts)
    .bind(deedlog_kernel::privacy::ERASED)
    .execute(conn)
    .await
    .map_err(ApplyError::db("erase forgotten contacts' messages"))?;
    Ok(())
}
