//! A user's notification inbox: how far they have read their notifications
//! (ADR 0038). One stream per user, apart from the tenant's roster and the
//! user's credentials, so marking read contends with nothing else. The
//! notifications themselves are derived from the log by the notifications
//! projection; only the read mark is a fact of its own, so it survives a
//! rebuild of that read model.
//!
//! The mark only moves forward: marking a position at or below it is
//! accepted and changes nothing (idempotent, so two tabs marking the same
//! feed never fail). The service passes in the log's head, looked up when
//! the command arrives, and the caller: a user marks only their own inbox.

use deedlog_kernel::UserId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// Every notification of `user` up to the log position `up_to` is read.
    NotificationsRead { user: UserId, up_to: u64 },
}

deedlog_kernel::event_types!(Event { NotificationsRead });

/// How far the inbox's user has read (0: nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    pub read_up_to: u64,
}

/// Marks `user`'s notifications read up to the log position `up_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkRead {
    /// Whose inbox (the command's target).
    pub user: UserId,
    /// Who asks.
    pub caller: UserId,
    pub up_to: u64,
    /// The log's head when the command arrived.
    pub head: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a user marks only their own notifications read")]
    NotOwnInbox,
    #[error("position {up_to} is beyond the log's head ({head}); pass a position the log has")]
    BeyondHead { up_to: u64, head: u64 },
}

impl deedlog_kernel::Refusal for Error {
    fn kind(&self) -> deedlog_kernel::RefusalKind {
        let field = match self {
            Error::NotOwnInbox => "user_id",
            Error::BeyondHead { .. } => "up_to",
        };
        deedlog_kernel::RefusalKind::InvalidArgument {
            field: field.to_owned(),
            reason: self.to_string(),
        }
    }
}

/// Moves the mark forward; a mark at or below the current one is a no-op.
pub fn decide(state: &State, command: &MarkRead) -> Result<Vec<Event>, Error> {
    if command.user != command.caller {
        return Err(Error::NotOwnInbox);
    }
    if command.up_to > command.head {
        return Err(Error::BeyondHead {
            up_to: command.up_to,
            head: command.head,
        });
    }
    if command.up_to <= state.read_up_to {
        return Ok(vec![]);
    }
    Ok(vec![Event::NotificationsRead {
        user: command.user,
        up_to: command.up_to,
    }])
}

pub fn evolve(state: State, event: &Event) -> State {
    match event {
        Event::NotificationsRead { up_to, .. } => State {
            read_up_to: state.read_up_to.max(*up_to),
        },
    }
}

deedlog_kernel::decider! {
    /// The notification-inbox decider.
    pub struct Inboxes: NOTIFICATION_INBOX, State, MarkRead => Event, Error;
    decide = decide, evolve = evolve
}

/// The id of `user`'s inbox stream: derived from the user's id (a stream id
/// names one stream of any type, and the user's own id is their
/// credentials stream).
pub fn stream_of(user: UserId) -> uuid::Uuid {
    uuid::Uuid::new_v5(&user.as_uuid(), b"notification_inbox")
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_kernel::DeciderSpec;
    use uuid::Uuid;

    fn user(n: u128) -> UserId {
        UserId::from_uuid(Uuid::from_u128(n))
    }

    fn mark(up_to: u64) -> MarkRead {
        MarkRead {
            user: user(1),
            caller: user(1),
            up_to,
            head: 50,
        }
    }

    fn read(up_to: u64) -> Event {
        Event::NotificationsRead {
            user: user(1),
            up_to,
        }
    }

    #[test]
    fn a_first_mark_is_recorded() {
        DeciderSpec::<Inboxes>::given_nothing()
            .when(mark(10))
            .then_events(vec![read(10)]);
    }

    #[test]
    fn the_mark_moves_forward_and_never_back() {
        DeciderSpec::<Inboxes>::given(vec![read(10)])
            .when(mark(20))
            .then_events(vec![read(20)]);
        DeciderSpec::<Inboxes>::given(vec![read(10)])
            .when(mark(10))
            .then_events(vec![]);
        DeciderSpec::<Inboxes>::given(vec![read(10)])
            .when(mark(3))
            .then_events(vec![]);
        DeciderSpec::<Inboxes>::given_nothing()
            .when(mark(0))
            .then_events(vec![]);
    }

    #[test]
    fn a_position_beyond_the_head_is_refused() {
        DeciderSpec::<Inboxes>::given_nothing()
            .when(mark(51))
            .then_error(Error::BeyondHead {
                up_to: 51,
                head: 50,
            });
        DeciderSpec::<Inboxes>::given_nothing()
            .when(mark(50))
            .then_events(vec![read(50)]);
    }

    #[test]
    fn another_users_inbox_is_refused() {
        DeciderSpec::<Inboxes>::given_nothing()
            .when(MarkRead {
                caller: user(2),
                ..mark(10)
            })
            .then_error(Error::NotOwnInbox);
    }

    #[test]
    fn the_stream_is_not_the_users_credentials_stream() {
        assert_ne!(stream_of(user(1)), user(1).as_uuid());
        assert_eq!(stream_of(user(1)), stream_of(user(1)));
    }
}
