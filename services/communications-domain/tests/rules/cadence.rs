//! The cadence limit: at most N messages per contact per window, counting
//! only queued messages, with the window's start excluded.

use crate::support::*;
use chrono::Duration;
use deedlog_communications_domain::{Channel, RefusalReason, SendPolicy};

#[test]
fn the_cadence_window_counts_queued_messages_of_the_last_seven_days() {
    let first = utc(2026, 11, 16, 12, 0);
    let history = with(
        reachable(),
        [
            queued(10, Channel::Email, first),
            queued(11, Channel::Sms, first + days(1)),
            queued(12, Channel::Letter, first + days(2)),
        ],
    );
    let limit = vec![RefusalReason::CadenceLimit {
        limit: 3,
        window_days: 7,
    }];
    // The 4th within 7 days, down to the last second, is refused.
    let just_before = first + days(7) - Duration::seconds(1);
    Spec::given(history.clone())
        .when(at(just_before, send(1, Channel::Email)))
        .then_events(vec![refused(1, Channel::Email, limit.clone(), just_before)]);
    // Once the first has aged out (the window excludes its start), the 4th goes.
    let aged_out = first + days(7);
    Spec::given(history.clone())
        .when(at(aged_out, send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, aged_out)]);
    // Refused messages do not count.
    let with_refusals = with(
        vec![created(), granted(Channel::Email)],
        [
            queued(10, Channel::Email, noon() - days(1)),
            queued(11, Channel::Email, noon() - days(1)),
            refused(
                12,
                Channel::Sms,
                vec![RefusalReason::NoConsent {
                    channel: Channel::Sms,
                }],
                noon(),
            ),
            refused(
                13,
                Channel::Call,
                vec![RefusalReason::NoConsent {
                    channel: Channel::Call,
                }],
                noon(),
            ),
        ],
    );
    Spec::given(with_refusals)
        .when(when(send(1, Channel::Email)))
        .then_events(vec![queued(1, Channel::Email, noon())]);
    // The tenant's own limit and window apply.
    let strict = SendPolicy {
        cadence_limit: 1,
        cadence_window_days: 1,
        ..SendPolicy::default()
    };
    let one = with(
        reachable(),
        [queued(10, Channel::Email, noon() - Duration::hours(23))],
    );
    Spec::given(one.clone())
        .when(when(send_with(1, Channel::Email, strict)))
        .then_events(vec![refused(
            1,
            Channel::Email,
            vec![RefusalReason::CadenceLimit {
                limit: 1,
                window_days: 1,
            }],
            noon(),
        )]);
    Spec::given(one)
        .when(at(
            noon() + Duration::hours(1),
            send_with(1, Channel::Email, strict),
        ))
        .then_events(vec![queued(1, Channel::Email, noon() + Duration::hours(1))]);
}
