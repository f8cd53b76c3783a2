//! The tenant's sending policy. The service looks it up in the tenant's
//! settings and hands it in with every send, so the decision stays pure and
//! a later change of settings never alters how past sends were decided.

use crate::error::Error;
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

/// At most this many messages per contact per window, unless the tenant says otherwise.
pub const DEFAULT_CADENCE_LIMIT: u32 = 3;
/// The cadence window in days, unless the tenant says otherwise.
pub const DEFAULT_CADENCE_WINDOW_DAYS: u32 = 7;

/// When calls and sms stop and start again in the tenant's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    pub time_zone: Tz,
    pub cadence_limit: u32,
    pub cadence_window_days: u32,
    /// Quiet hours begin at this local time (inclusive)...
    pub quiet_hours_start: NaiveTime,
    /// ...and end at this one (exclusive); a start after the end spans midnight.
    pub quiet_hours_end: NaiveTime,
}

impl SendPolicy {
    /// The default policy in `time_zone`: 3 messages per 7 days, quiet 21:00–08:00.
    pub fn default_for(time_zone: Tz) -> Self {
        Self {
            time_zone,
            cadence_limit: DEFAULT_CADENCE_LIMIT,
            cadence_window_days: DEFAULT_CADENCE_WINDOW_DAYS,
            quiet_hours_start: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
            quiet_hours_end: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }

    /// The start of the cadence window ending at `at`; the window excludes its start.
    pub fn window_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.checked_sub_signed(Duration::days(i64::from(self.cadence_window_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The local time at `at`, to the second, if it falls within quiet hours.
    pub fn quiet_local_time(&self, at: DateTime<Utc>) -> Option<NaiveTime> {
        let local = at.with_timezone(&self.time_zone).time();
        let local = local.with_nanosecond(0).unwrap_or(local);
        let (start, end) = (self.quiet_hours_start, self.quiet_hours_end);
        let quiet = if start <= end {
            // Equal bounds mean no quiet hours at all.
            start <= local && local < end
        } else {
            local >= start || local < end
        };
        quiet.then_some(local)
    }

    /// Refuses a policy that would block every message or make no sense.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.cadence_limit == 0 {
            return Err(Error::invalid("policy.cadence_limit", "must be at least 1"));
        }
        if self.cadence_window_days == 0 {
            return Err(Error::invalid(
                "policy.cadence_window_days",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Default for SendPolicy {
    /// The default policy in UTC.
    fn default() -> Self {
        Self::default_for(Tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn utc(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, h, m, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn quiet_hours_span_midnight_by_default() {
        let policy = SendPolicy::default();
        assert_eq!(policy.quiet_local_time(utc(21, 0)), Some(hm(21, 0)));
        assert_eq!(policy.quiet_local_time(utc(7, 59)), Some(hm(7, 59)));
        assert_eq!(policy.quiet_local_time(utc(8, 0)), None);
        assert_eq!(policy.quiet_local_time(utc(20, 59)), None);
    }

    #[test]
    fn quiet_hours_within_one_day_and_empty_ones() {
        let mut policy = SendPolicy {
            quiet_hours_start: hm(12, 0),
            quiet_hours_end: hm(14, 0),
            ..SendPolicy::default()
        };
        assert_eq!(policy.quiet_local_time(utc(12, 30)), Some(hm(12, 30)));
        assert_eq!(policy.quiet_local_time(utc(14, 0)), None);
        assert_eq!(policy.quiet_local_time(utc(23, 0)), None);
        policy.quiet_hours_end = hm(12, 0);
        assert_eq!(policy.quiet_local_time(utc(12, 0)), None);
    }
}
