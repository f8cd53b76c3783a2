//! Weekly counts of asking-price changes (property streams) and of
//! messages (contact streams). Only the event types counted are decoded.

use super::counters::Deltas;
use crate::projection::ApplyError;
use crate::projections::decode::{decode, name_of};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use deedlog_communications_domain::Channel;
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::number::fit;
use deedlog_properties_domain::Event as PropertyEvent;
use deedlog_read_model::analytics::{MessageWeekRow, PriceChangeWeekRow};
use deedlog_read_model::Int64;

/// The Monday (ISO 8601 week start) of the UTC date of `at`.
pub fn week_start(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    let back = u64::from(day.weekday().num_days_from_monday());
    day.checked_sub_days(Days::new(back)).unwrap_or(day)
}

/// Counts the batch's asking-price changes per tenant, week and currency.
pub fn price_changes(
    events: &[RecordedEvent],
    deltas: &mut Deltas<PriceChangeWeekRow>,
) -> Result<(), ApplyError> {
    for recorded in events.iter().filter(|e| {
        e.stream_type == deedlog_kernel::stream_type::PROPERTY
            && e.event_type == "AskingPriceChanged"
    }) {
        let PropertyEvent::AskingPriceChanged { from, to } = decode(recorded)? else {
            continue;
        };
        // A first price (none before) is a change but neither way; so is a
        // price in another currency, which the rules do not allow.
        let before = from
            .filter(|f| f.currency == to.currency)
            .map(|f| f.amount_minor);
        let diff = before.map_or(0, |b| i128::from(to.amount_minor) - i128::from(b));
        deltas.add(PriceChangeWeekRow {
            tenant_id: recorded.tenant_id.as_uuid(),
            week_start: week_start(recorded.occurred_at),
            currency: to.currency.code().to_owned(),
            changes: 1,
            decreases: i64::from(diff < 0),
            increases: i64::from(diff > 0),
            abs_change_minor: Int64(
                fit("weekly price change", diff.abs())
                    .map_err(|e| ApplyError::event(recorded, e))?,
            ),
        });
    }
    Ok(())
}

/// What analytics reads of a message event: its channel and, of a bounce,
/// whether it was hard. Its texts stay sealed (the projection opens no
/// personal field, ADR 0035), so it is not decoded into the whole event.
#[derive(serde::Deserialize)]
struct Counted {
    channel: Channel,
    #[serde(default)]
    hard: bool,
}

/// Counts the batch's messages per tenant, week and channel: sent
/// (queued), refused, delivery reports and replies.
pub fn messages(
    events: &[RecordedEvent],
    deltas: &mut Deltas<MessageWeekRow>,
) -> Result<(), ApplyError> {
    for recorded in events
        .iter()
        .filter(|e| e.stream_type == deedlog_kernel::stream_type::CONTACT)
    {
        let count: fn(&mut MessageWeekRow, bool) = match recorded.event_type.as_str() {
            "MessageQueued" => |row, _| row.sent = 1,
            "MessageRefused" => |row, _| row.refused = 1,
            "MessageDelivered" => |row, _| row.delivered = 1,
            "MessageOpened" => |row, _| row.opened = 1,
            "MessageBounced" => |row, hard| {
                row.bounced = 1;
                row.hard_bounced = i64::from(hard);
            },
            "ReplyReceived" => |row, _| row.replied = 1,
            _ => continue,
        };
        let counted: Counted =
            serde_json::from_str(&recorded.payload).map_err(|e| ApplyError::event(recorded, e))?;
        let mut row = MessageWeekRow::new(
            recorded.tenant_id.as_uuid(),
            week_start(recorded.occurred_at),
            name_of(&counted.channel),
        );
        count(&mut row, counted.hard);
        deltas.add(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::week_start;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn a_week_starts_on_the_monday_of_the_utc_date() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        for (day, hour) in [(30, 0), (30, 23), (3, 12), (6, 23)] {
            let month = if day == 30 { 11 } else { 12 };
            let at = Utc
                .with_ymd_and_hms(2026, month, day, hour, 59, 59)
                .single()
                .expect("instant");
            assert_eq!(week_start(at), monday, "{at}");
        }
        let sunday_before = Utc
            .with_ymd_and_hms(2026, 11, 29, 23, 59, 59)
            .single()
            .expect("instant");
        assert_eq!(
            week_start(sunday_before),
            NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
        );
    }
}
