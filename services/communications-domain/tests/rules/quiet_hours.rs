//! Quiet hours in the tenant's time zone, across midnight and across the
//! change to summer time (Europe/Berlin: 2026-03-29, 02:00 CET → 03:00 CEST).

use crate::support::*;
use chrono::{DateTime, NaiveTime, Utc};
use deedlog_communications_domain::{Channel, RefusalReason, SendPolicy};

fn berlin() -> SendPolicy {
    SendPolicy::default_for(chrono_tz::Europe::Berlin)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

fn quiet(local_time: NaiveTime) -> Vec<RefusalReason> {
    vec![RefusalReason::QuietHours {
        local_time,
        time_zone: "Europe/Berlin".into(),
    }]
}

fn sms_at(when: DateTime<Utc>, policy: SendPolicy) -> deedlog_communications_domain::Command {
    at(when, send_with(1, Channel::Sms, policy))
}

/// Sends on `channel` at `instant` under Berlin's policy: queued, or
/// refused as quiet at the local time `quiet_at`.
fn in_berlin(channel: Channel, instant: DateTime<Utc>, quiet_at: Option<NaiveTime>) {
    let expected = match quiet_at {
        Some(local_time) => refused(1, channel, quiet(local_time), instant),
        None => queued(1, channel, instant),
    };
    Spec::given(reachable())
        .when(at(instant, send_with(1, channel, berlin())))
        .then_events(vec![expected]);
}

#[test]
fn the_same_utc_instant_is_quiet_in_winter_and_not_in_summer() {
    // 06:30 UTC is 07:30 CET on Saturday but 08:30 CEST on Sunday.
    in_berlin(Channel::Sms, utc(2026, 3, 28, 6, 30), Some(hm(7, 30)));
    in_berlin(Channel::Sms, utc(2026, 3, 29, 6, 30), None);
    // 19:30 UTC is 20:30 CET (allowed) but 21:30 CEST (quiet).
    in_berlin(Channel::Sms, utc(2026, 3, 28, 19, 30), None);
    in_berlin(Channel::Sms, utc(2026, 3, 29, 19, 30), Some(hm(21, 30)));
}

#[test]
fn quiet_hours_run_across_midnight_and_end_at_eight_local_time() {
    // Saturday 23:30 UTC is 00:30 on Sunday in Berlin, the night of the change.
    in_berlin(Channel::Call, utc(2026, 3, 28, 23, 30), Some(hm(0, 30)));
    // 05:59 UTC on Sunday is 07:59 CEST: still quiet; 06:00 UTC is 08:00: allowed.
    in_berlin(Channel::Sms, utc(2026, 3, 29, 5, 59), Some(hm(7, 59)));
    in_berlin(Channel::Sms, utc(2026, 3, 29, 6, 0), None);
    // 21:00 local is the first quiet minute: 19:00 UTC in summer.
    in_berlin(Channel::Sms, utc(2026, 3, 29, 19, 0), Some(hm(21, 0)));
}

#[test]
fn letters_and_email_have_no_quiet_hours() {
    let night = utc(2026, 3, 29, 1, 0);
    for channel in [Channel::Email, Channel::Letter] {
        in_berlin(channel, night, None);
    }
}

#[test]
fn a_tenant_may_set_quiet_hours_within_one_day() {
    let lunch = SendPolicy {
        quiet_hours_start: hm(12, 0),
        quiet_hours_end: hm(14, 0),
        ..berlin()
    };
    // 11:15 UTC is 12:15 CET.
    let during = utc(2026, 1, 14, 11, 15);
    Spec::given(reachable())
        .when(sms_at(during, lunch))
        .then_events(vec![refused(1, Channel::Sms, quiet(hm(12, 15)), during)]);
    // 23:00 local would be quiet by default but is not under this policy.
    let night = utc(2026, 1, 14, 22, 0);
    Spec::given(reachable())
        .when(sms_at(night, lunch))
        .then_events(vec![queued(1, Channel::Sms, night)]);
}
