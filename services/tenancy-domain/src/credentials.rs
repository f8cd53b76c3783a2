//! One user's credentials: password hash, failed logins and lock-out, and
//! the refresh tokens issued to them. Kept apart from the tenant aggregate
//! so that logins do not contend on the tenant's stream.
//!
//! Hashing and verifying the password (Argon2id) happen in the service; the
//! decision receives the verdict, the time and the new token ids.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Failed logins within [`FAILURE_WINDOW`] that lock the user out.
pub const MAX_FAILURES: usize = 5;
/// The window in which failures are counted.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// How long a lock-out lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A PHC-format Argon2id hash computed by the service.
    SetPassword {
        hash: String,
    },
    Login {
        at: DateTime<Utc>,
        password_matches: bool,
        user_active: bool,
        token: NewToken,
    },
    /// Exchanges a refresh token for a new one (rotation). A token that
    /// was exchanged before is stolen or replayed: its whole sign-in (the
    /// family of tokens rotated from one login) is revoked.
    Refresh {
        at: DateTime<Utc>,
        token: Uuid,
        replacement: NewToken,
    },
    Logout {
        token: Uuid,
    },
    /// On deactivation: no refresh token of this user works any more.
    RevokeAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    PasswordSet {
        hash: String,
    },
    LoginSucceeded {
        at: DateTime<Utc>,
        token: NewToken,
    },
    LoginFailed {
        at: DateTime<Utc>,
    },
    LockedOut {
        until: DateTime<Utc>,
    },
    RefreshTokenRotated {
        old: Uuid,
        new: NewToken,
    },
    RefreshTokenRevoked {
        token: Uuid,
    },
    AllRefreshTokensRevoked {},
    /// A spent token was presented again: every token of its family ends.
    RefreshTokenReused {
        token: Uuid,
        family: Uuid,
    },
}

deedlog_kernel::event_types!(Event {
    PasswordSet,
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    RefreshTokenRotated,
    RefreshTokenRevoked,
    AllRefreshTokensRevoked,
    RefreshTokenReused,
});

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub password_hash: Option<String>,
    pub failures: Vec<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Live refresh tokens and when each expires.
    pub tokens: BTreeMap<Uuid, DateTime<Utc>>,
    /// Tokens already exchanged, and when they would have expired.
    pub spent: BTreeMap<Uuid, DateTime<Utc>>,
    /// The family of each live or spent token: the id of the token its
    /// login issued, from which it was rotated.
    pub families: BTreeMap<Uuid, Uuid>,
}

impl State {
    fn family(&self, token: &Uuid) -> Uuid {
        self.families.get(token).copied().unwrap_or(*token)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("password hash must be an Argon2id PHC string")]
    InvalidHash,
    #[error("the user has no password yet")]
    NoPassword,
    #[error("the user is not active")]
    UserInactive,
    #[error("too many failed logins; locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("the refresh token is not valid")]
    UnknownToken,
    #[error("the refresh token expired at {expired_at}")]
    TokenExpired { expired_at: DateTime<Utc> },
    #[error("{REUSED}")]
    TokenReused,
}

/// The answer to a spent refresh token, whether or not its family was live.
pub const REUSED: &str =
    "the refresh token was already used; every token of that sign-in is revoked, sign in again";

pub fn decide(state: &State, action: &Action) -> Result<Vec<Event>, Error> {
    match action {
        Action::SetPassword { hash } => {
            if !hash.starts_with("$argon2id$") {
                return Err(Error::InvalidHash);
            }
            Ok(vec![Event::PasswordSet { hash: hash.clone() }])
        }
        Action::Login {
            at,
            password_matches,
            user_active,
            token,
        } => {
            if let Some(until) = state.locked_until.filter(|until| until > at) {
                return Err(Error::Locked { until });
            }
            if !user_active {
                return Err(Error::UserInactive);
            }
            if state.password_hash.is_none() {
                return Err(Error::NoPassword);
            }
            if *password_matches {
                return Ok(vec![Event::LoginSucceeded {
                    at: *at,
                    token: *token,
                }]);
            }
            // A failure is an answer, not a refusal: it is recorded.
            let recent = state
                .failures
                .iter()
                .filter(|t| **t > *at - FAILURE_WINDOW)
                .count()
                + 1;
            let mut events = vec![Event::LoginFailed { at: *at }];
            if recent >= MAX_FAILURES {
                events.push(Event::LockedOut {
                    until: *at + LOCKOUT,
                });
            }
            Ok(events)
        }
        Action::Refresh {
            at,
            token,
            replacement,
        } => {
            if state.spent.contains_key(token) {
                let family = state.family(token);
                let live = state.tokens.keys().any(|t| state.family(t) == family);
                return if live {
                    Ok(vec![Event::RefreshTokenReused {
                        token: *token,
                        family,
                    }])
                } else {
                    Err(Error::TokenReused)
                };
            }
            let expires_at = state.tokens.get(token).ok_or(Error::UnknownToken)?;
            if expires_at <= at {
                return Err(Error::TokenExpired {
                    expired_at: *expires_at,
                });
            }
            Ok(vec![Event::RefreshTokenRotated {
                old: *token,
                new: *replacement,
            }])
        }
        Action::Logout { token } => Ok(if state.tokens.contains_key(token) {
            vec![Event::RefreshTokenRevoked { token: *token }]
        } else {
            vec![]
        }),
        Action::RevokeAll => Ok(if state.tokens.is_empty() {
            vec![]
        } else {
            vec![Event::AllRefreshTokensRevoked {}]
        }),
    }
}

pub fn evolve(mut state: State, event: &Event) -> State {
    match event {
        Event::PasswordSet { hash } => state.password_hash = Some(hash.clone()),
        Event::LoginSucceeded { at, token } => {
            state.failures.clear();
            state.tokens.insert(token.id, token.expires_at);
            state.families.insert(token.id, token.id);
            // Spent tokens past their expiry are refused as expired anyway.
            state.spent.retain(|_, expires_at| *expires_at > *at);
            let State {
                tokens,
                spent,
                families,
                ..
            } = &mut state;
            families.retain(|t, _| tokens.contains_key(t) || spent.contains_key(t));
        }
        Event::LoginFailed { at } => {
            state.failures.retain(|t| *t > *at - FAILURE_WINDOW);
            state.failures.push(*at);
        }
        Event::LockedOut { until } => {
            state.locked_until = Some(*until);
            state.failures.clear();
        }
        Event::RefreshTokenRotated { old, new } => {
            let family = state.family(old);
            let expires_at = state.tokens.remove(old).unwrap_or(new.expires_at);
            state.spent.insert(*old, expires_at);
            state.families.insert(*old, family);
            state.tokens.insert(new.id, new.expires_at);
            state.families.insert(new.id, family);
        }
        Event::RefreshTokenReused { family, .. } => {
            let State {
                tokens, families, ..
            } = &mut state;
            tokens.retain(|t, _| families.get(t).copied().unwrap_or(*t) != *family);
        }
        Event::RefreshTokenRevoked { token } => {
            state.tokens.remove(token);
        }
        Event::AllRefreshTokensRevoked {} => {
            state.tokens.clear();
            state.spent.clear();
            state.families.clear();
        }
    }
    state
}

deedlog_kernel::decider! {
    /// The credentials decider.
    pub struct Credentials: CREDENTIALS, State, Action => Event, Error;
    decide = decide, evolve = evolve
}
