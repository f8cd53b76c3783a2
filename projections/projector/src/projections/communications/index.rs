//! Contacts' blind indexes (ADR 0036): the keyed hashes of their email
//! address and phone number, which a search matches instead of plaintext.
//! An erased value (a forgotten contact) has none.

use super::*;
use crate::projection::Keys;
use deedlog_kernel::contact_point::{EMAIL_INDEX, PHONE_INDEX};
use deedlog_kernel::privacy::ERASED;

/// Recomputes the indexes of the contacts whose email address or phone
/// number the batch changed.
pub(super) fn refresh(
    keys: Keys<'_>,
    decoded: &Decoded<'_, Event>,
    works: &mut HashMap<Uuid, Working>,
) -> Result<(), ApplyError> {
    // Failures are the batch's last event of the contact's.
    let last: HashMap<Uuid, &RecordedEvent> = decoded
        .iter()
        .map(|(recorded, _)| (recorded.stream_id.as_uuid(), *recorded))
        .collect();
    for (id, work) in works.iter_mut() {
        let now = (work.row.email.clone(), work.row.phone.clone());
        if now == work.indexed {
            continue;
        }
        let Some(recorded) = last.get(id) else {
            continue;
        };
        work.row.email_index = index(keys, recorded, EMAIL_INDEX, now.0.as_deref())?;
        work.row.phone_index = index(keys, recorded, PHONE_INDEX, now.1.as_deref())?;
        work.indexed = now;
    }
    Ok(())
}

fn index(
    keys: Keys<'_>,
    recorded: &RecordedEvent,
    label: &str,
    value: Option<&str>,
) -> Result<Option<String>, ApplyError> {
    match value.filter(|v| *v != ERASED) {
        Some(value) => keys.blind_index(recorded, label, value),
        None => Ok(None),
    }
}
