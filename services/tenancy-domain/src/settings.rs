//! A tenant's communications settings: the time zone its quiet hours are
//! kept in and its cadence limit. The communications service reads them to
//! build each send's policy.
//!
//! Registered tenants start with the defaults, which live in the state
//! rather than in `TenantRegistered`, so events stored before settings
//! existed still decode and mean the same.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub const DEFAULT_TIME_ZONE: &str = "UTC";
pub const DEFAULT_CADENCE_LIMIT: u32 = 3;
pub const DEFAULT_CADENCE_WINDOW_DAYS: u32 = 7;
const MAX_TIME_ZONE_LEN: usize = 64;

/// How and when a tenant's contacts may be messaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationSettings {
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// At most this many messages per contact per window (1 to 50).
    pub cadence_limit: u32,
    /// The window, in days (1 to 90).
    pub cadence_window_days: u32,
}

impl Default for CommunicationSettings {
    /// UTC, at most 3 messages per contact per 7 days.
    fn default() -> Self {
        Self {
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
            cadence_limit: DEFAULT_CADENCE_LIMIT,
            cadence_window_days: DEFAULT_CADENCE_WINDOW_DAYS,
        }
    }
}

impl CommunicationSettings {
    /// Checks the settings, naming the first wrong field and why.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        let known_zone = !self.time_zone.is_empty()
            && self.time_zone.len() <= MAX_TIME_ZONE_LEN
            && self.time_zone.parse::<Tz>().is_ok();
        if !known_zone {
            return Err((
                "time_zone",
                "must be an IANA time zone such as Europe/Berlin",
            ));
        }
        if !(1..=50).contains(&self.cadence_limit) {
            return Err(("cadence_limit", "must be between 1 and 50"));
        }
        if !(1..=90).contains(&self.cadence_window_days) {
            return Err(("cadence_window_days", "must be between 1 and 90"));
        }
        Ok(())
    }

    /// The time zone, parsed. Names are checked on the way in; UTC only
    /// stands in for one that a later tz database no longer knows.
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        time_zone: &str,
        cadence_limit: u32,
        cadence_window_days: u32,
    ) -> CommunicationSettings {
        CommunicationSettings {
            time_zone: time_zone.to_owned(),
            cadence_limit,
            cadence_window_days,
        }
    }

    #[test]
    fn bounds_are_inclusive() {
        assert_eq!(settings("Europe/Berlin", 1, 1).validate(), Ok(()));
        assert_eq!(settings("America/New_York", 50, 90).validate(), Ok(()));
        assert_eq!(
            settings("UTC", 51, 7).validate(),
            Err(("cadence_limit", "must be between 1 and 50"))
        );
        assert_eq!(
            settings("UTC", 3, 91).validate(),
            Err(("cadence_window_days", "must be between 1 and 90"))
        );
    }

    #[test]
    fn only_known_time_zones_pass() {
        for bad in ["", "Berlin", "europe/berlin", "UTC+1", &"A".repeat(65)] {
            assert_eq!(
                settings(bad, 3, 7).validate().map_err(|(field, _)| field),
                Err("time_zone"),
                "{bad}"
            );
        }
        assert_eq!(
            settings("Europe/Berlin", 3, 7).tz(),
            chrono_tz::Europe::Berlin
        );
    }
}
