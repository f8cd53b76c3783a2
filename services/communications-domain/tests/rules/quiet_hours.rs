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

#[test]
fn the_same_utc_instant_is_quiet_in_winter_and_not_in_summer() {
    // 06:30 UTC is 07:30 CET on Saturday but 08:30 CEST on Sunday.
    let saturday = utc(2026, 3, 28, 6, 30);
    Spec::given(reachable())
        .when(sms_at(saturday, berlin()))
        .then_events(vec![refused(1, Channel::Sms, quiet(hm(7, 30)), saturday)]);
    let sunday = utc(2026, 3, 29, 6, 30);
    Spec::given(reachable())
        .when(sms_at(sunday, berlin()))
        .then_events(vec![queued(1, Channel::Sms, sunday)]);
    // 19:30 UTC is 20:30 CET (allowed) but 21:30 CEST (quiet).
    let saturday_evening = utc(2026, 3, 28, 19, 30);
    Spec::given(reachable())
        .when(sms_at(saturday_evening, berlin()))
        .then_events(vec![queued(1, Channel::Sms, saturday_evening)]);
    let sunday_evening = utc(2026, 3, 29, 19, 30);
    Spec::given(reachable())
        .when(sms_at(sunday_evening, berlin()))
        .then_events(vec![refused(
            1,
            Channel::Sms,
            quiet(hm(21, 30)),
            sunday_evening,
        )]);
}

#[test]
fn quiet_hours_run_across_midnight_and_end_at_eight_local_time() {
    // Saturday 23:30 UTC is 00:30 on Sunday in Berlin, the night of the change.
    let past_midnight = utc(2026, 3, 28, 23, 30);
    Spec::given(reachable())
        .when(at(past_midnight, send_with(1, Channel::Call, berlin())))
        .then_events(vec![refused(
            1,
            Channel::Call,
            quiet(hm(0, 30)),
            past_midnight,
        )]);
    // 05:59 UTC on Sunday is 07:59 CEST: still quiet; 06:00 UTC is 08:00: allowed.
    let last_quiet_minute = utc(2026, 3, 29, 5, 59);
    Spec::given(reachable())
        .when(sms_at(last_quiet_minute, berlin()))
        .then_events(vec![refused(
            1,
            Channel::Sms,
            quiet(hm(7, 59)),
            last_quiet_minute,
        )]);
    let eight = utc(2026, 3, 29, 6, 0);
    Spec::given(reachable())
        .when(sms_at(eight, berlin()))
        .then_events(vec![queued(1, Channel::Sms, eight)]);
    // 21:00 local is the first quiet minute: 19:00 UTC in summer.
    let nine_pm = utc(2026, 3, 29, 19, 0);
    Spec::given(reachable())
        .when(sms_at(nine_pm, berlin()))
        .then_events(vec![refused(1, Channel::Sms, quiet(hm(21, 0)), nine_pm)]);
}

#[test]
fn letters_and_email_have_no_quiet_hours() {
    let night = utc(2026, 3, 29, 1, 0);
    for channel in [Channel::Email, Channel::Letter] {
        Spec::given(reachable())
            .when(at(night, send_with(1, channel, berlin())))
            .then_events(vec![queued(1, channel, night)]);
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
