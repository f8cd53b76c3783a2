//! Given/when/then for logins, lock-out and refresh tokens.

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_kernel::DeciderSpec;
use deedlog_tenancy_domain::credentials::{Action, Credentials, Error, Event, NewToken};
use uuid::Uuid;

type Spec = DeciderSpec<Credentials>;

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .single()
        .expect("time")
        + Duration::minutes(minutes)
}

fn token(n: u128) -> NewToken {
    NewToken {
        id: Uuid::from_u128(n),
        expires_at: t(60 * 24 * 30),
    }
}

/// Refreshing with token `n` at `minute`, to be replaced by token `replacement`.
fn refresh(minute: i64, n: u128, replacement: u128) -> Action {
    Action::Refresh {
        at: t(minute),
        token: Uuid::from_u128(n),
        replacement: token(replacement),
    }
}

fn with_password() -> Vec<Event> {
    vec![Event::PasswordSet {
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }]
}

/// A password set and one sign-in at minute 0, with token 1.
fn signed_in() -> Vec<Event> {
    let mut history = with_password();
    history.push(Event::LoginSucceeded {
        at: t(0),
        token: token(1),
    });
    history
}

fn login(minute: i64, ok: bool) -> Action {
    Action::Login {
        at: t(minute),
        password_matches: ok,
        user_active: true,
        token: token(minute as u128),
    }
}

#[test]
fn a_good_password_logs_in_and_issues_a_refresh_token() {
    Spec::given(with_password())
        .when(login(0, true))
        .then_events(vec![Event::LoginSucceeded {
            at: t(0),
            token: token(0),
        }]);
    Spec::given(vec![])
        .when(login(0, true))
        .then_error(Error::NoPassword);
    Spec::given(with_password())
        .when(Action::Login {
            at: t(0),
            password_matches: true,
            user_active: false,
            token: token(0),
        })
        .then_error(Error::UserInactive);
    Spec::given(vec![])
        .when(Action::SetPassword {
            hash: "plain".into(),
        })
        .then_error(Error::InvalidHash);
}

#[test]
fn five_failures_within_15_minutes_lock_the_user_for_15_minutes() {
    let mut history = with_password();
    history.extend((0..4).map(|m| Event::LoginFailed { at: t(m) }));
    Spec::given(history.clone())
        .when(login(10, false))
        .then_events(vec![
            Event::LoginFailed { at: t(10) },
            Event::LockedOut { until: t(25) },
        ]);
    history.extend([
        Event::LoginFailed { at: t(10) },
        Event::LockedOut { until: t(25) },
    ]);
    // Locked: even the right password is refused until the lock ends.
    Spec::given(history.clone())
        .when(login(24, true))
        .then_error(Error::Locked { until: t(25) });
    Spec::given(history)
        .when(login(25, true))
        .then_events(vec![Event::LoginSucceeded {
            at: t(25),
            token: token(25),
        }]);
}

#[test]
fn failures_older_than_the_window_do_not_count() {
    let mut history = with_password();
    history.extend([0, 1, 2, 3].map(|m| Event::LoginFailed { at: t(m) }));
    // At minute 16 the failures at minutes 0 and 1 are out of the window.
    Spec::given(history)
        .when(login(16, false))
        .then_events(vec![Event::LoginFailed { at: t(16) }]);
}

#[test]
fn refresh_tokens_rotate_expire_and_are_revoked() {
    let history = signed_in();
    Spec::given(history.clone())
        .when(refresh(5, 1, 2))
        .then_events(vec![Event::RefreshTokenRotated {
            old: Uuid::from_u128(1),
            new: token(2),
        }]);
    Spec::given(history.clone())
        .when(refresh(60 * 24 * 31, 1, 2))
        .then_error(Error::TokenExpired {
            expired_at: token(1).expires_at,
        });
    let mut rotated = history.clone();
    rotated.push(Event::RefreshTokenRotated {
        old: Uuid::from_u128(1),
        new: token(2),
    });
    Spec::given(rotated.clone())
        .when(refresh(6, 1, 3))
        .then_events(vec![Event::RefreshTokenReused {
            token: Uuid::from_u128(1),
            family: Uuid::from_u128(1),
        }]);
    Spec::given(rotated)
        .when(refresh(6, 9, 3))
        .then_error(Error::UnknownToken);
    Spec::given(history.clone())
        .when(Action::Logout {
            token: Uuid::from_u128(1),
        })
        .then_events(vec![Event::RefreshTokenRevoked {
            token: Uuid::from_u128(1),
        }]);
    Spec::given(history.clone())
        .when(Action::RevokeAll)
        .then_events(vec![Event::AllRefreshTokensRevoked {}]);
    let mut revoked = history;
    revoked.push(Event::AllRefreshTokensRevoked {});
    Spec::given(revoked.clone())
        .when(Action::RevokeAll)
        .then_events(vec![]);
    Spec::given(revoked)
        .when(refresh(5, 1, 2))
        .then_error(Error::UnknownToken);
}

#[test]
fn reusing_a_spent_token_revokes_its_whole_family_and_no_other() {
    let mut history = signed_in();
    // A second sign-in (another device) is a family of its own.
    history.push(Event::LoginSucceeded {
        at: t(1),
        token: token(10),
    });
    for (old, new) in [(1, 2), (2, 3)] {
        history.push(Event::RefreshTokenRotated {
            old: Uuid::from_u128(old),
            new: token(new),
        });
    }
    history.push(Event::RefreshTokenReused {
        token: Uuid::from_u128(1),
        family: Uuid::from_u128(1),
    });
    // The successor of the replayed token is revoked with it.
    Spec::given(history.clone())
        .when(refresh(30, 3, 99))
        .then_error(Error::UnknownToken);
    // Replayed again once the family is gone: refused, nothing recorded.
    Spec::given(history.clone())
        .when(refresh(30, 2, 99))
        .then_error(Error::TokenReused);
    // The other sign-in keeps working.
    Spec::given(history)
        .when(refresh(30, 10, 99))
        .then_events(vec![Event::RefreshTokenRotated {
            old: Uuid::from_u128(10),
            new: token(99),
        }]);
}
