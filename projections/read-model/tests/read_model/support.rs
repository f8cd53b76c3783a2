//! A fresh database per test (log and read models migrated), a way to
//! append events and to project them. The database comes from `deedlog-testing`.

use chrono::{DateTime, Duration, TimeZone, Utc};

pub use deedlog_testing::{eur, new_stream, TestDb};

/// 1 December 2026, 09:00 UTC, plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("instant")
        + Duration::hours(hours)
}
