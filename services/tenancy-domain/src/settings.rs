//! A tenant's communications settings: the time zone its quiet hours are
//! kept in and its cadence limit. The communications service reads them to
//! build each send's policy.
//!
//! Registered tenants start with the defaults, which live in the state
//! rather than in `TenantRegistered`, so events stored before settings
//! existed still decode and mean the same.

use crate::tenant::{Error, Event};
use chrono_tz::Tz;

pub const DEFAULT_TIME_ZONE: &str = "UTC";
pub const DEFAULT_CADENCE_LIMIT: u32 = 3;
pub const DEFAULT_CADENCE_WINDOW_DAYS: u32 = 7;
const MAX_TIME_ZONE_LEN: usize = 64;

/// How and when a tenant's contacts may be messaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunicationSettings {
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// At most this many messages per contact per window (1 to 50).
    pub cadence_limit: u32,
    /// The window, in days (1 to 90).
    pub cadence_window_days: u32,
}

impl Default for CommunicationSettings {
    fn default() -> Self {
        Self {
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
            cadence_limit: DEFAULT_CADENCE_LIMIT,
            cadence_window_days: DEFAULT_CADENCE_WINDOW_DAYS,
        }
    }
}

impl CommunicationSettings {
    /// Checks settings, naming the first wrong field; the time zone is kept
    /// under its canonical tz database name.
    pub fn checked(
        time_zone: &str,
        cadence_limit: u32,
        cadence_window_days: u32,
    ) -> Result<Self, Error> {
        let time_zone = time_zone.trim();
        let tz = (time_zone.len() <= MAX_TIME_ZONE_LEN)
            .then(|| time_zone.parse::<Tz>().ok())
            .flatten()
            .ok_or_else(|| {
                invalid(
                    "time_zone",
                    "must be an IANA time zone such as Europe/Berlin",
                )
            })?;
        if !(1..=50).contains(&cadence_limit) {
            return Err(invalid("cadence_limit", "must be between 1 and 50"));
        }
        if !(1..=90).contains(&cadence_window_days) {
            return Err(invalid("cadence_window_days", "must be between 1 and 90"));
        }
        Ok(Self {
            time_zone: tz.name().to_owned(),
            cadence_limit,
            cadence_window_days,
        })
    }

    /// The time zone, parsed. Names were checked on the way in; UTC only
    /// stands in for one that a later tz database dropped.
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    /// The event recording a change to these settings.
    pub(crate) fn changed(self) -> Event {
        Event::CommunicationSettingsChanged {
            time_zone: self.time_zone,
            cadence_limit: self.cadence_limit,
            cadence_window_days: self.cadence_window_days,
        }
    }
}

fn invalid(field: &'static str, reason: &str) -> Error {
    Error::Invalid {
        field,
        reason: reason.to_owned(),
    }
}
