//! A given/when/then harness for deciders, in the spirit of cqrs-es'
//! `TestFramework`: given past events, when a command, then new events or an
//! exact error. No I/O, so these tests are fast and the most numerous.

use crate::decider::{replay, Decider};
use std::fmt::Debug;

/// A decider scenario under construction.
#[derive(Debug)]
pub struct DeciderSpec<D: Decider> {
    history: Vec<D::Event>,
}

impl<D: Decider> DeciderSpec<D>
where
    D::Event: Debug + PartialEq,
    D::Error: Debug + PartialEq,
{
    /// Starts a scenario with the given past events.
    pub fn given(history: Vec<D::Event>) -> Self {
        Self { history }
    }

    /// Starts a scenario for a record that does not exist yet.
    pub fn given_nothing() -> Self {
        Self::given(Vec::new())
    }

    /// Decides `command` against the state the history folds into.
    pub fn when(self, command: D::Command) -> Outcome<D> {
        let state = replay::<D>(&self.history);
        Outcome {
            result: D::decide(&state, &command),
        }
    }
}

/// The result of a scenario's command, to be checked.
#[derive(Debug)]
pub struct Outcome<D: Decider> {
    result: Result<Vec<D::Event>, D::Error>,
}

impl<D: Decider> Outcome<D>
where
    D::Event: Debug + PartialEq,
    D::Error: Debug + PartialEq,
{
    /// Asserts that the command produced exactly these events.
    #[track_caller]
    pub fn then_events(self, expected: Vec<D::Event>) {
        match self.result {
            Ok(events) => assert_eq!(events, expected, "unexpected events"),
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// Asserts that the command was refused with exactly this error.
    #[track_caller]
    pub fn then_error(self, expected: D::Error) {
        match self.result {
            Ok(events) => panic!("expected error {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected, "unexpected error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that refuses to go above a limit: the smallest useful decider.
    struct Counter;

    #[derive(Debug, PartialEq)]
    enum Event {
        Added(u32),
    }

    #[derive(Debug, PartialEq)]
    enum Error {
        Over { limit: u32 },
    }

    impl Decider for Counter {
        const STREAM_TYPE: &'static str = "counter";
        type State = u32;
        type Command = u32;
        type Event = Event;
        type Error = Error;

        fn decide(state: &u32, add: &u32) -> Result<Vec<Event>, Error> {
            if state + add > 10 {
                return Err(Error::Over { limit: 10 });
            }
            Ok(vec![Event::Added(*add)])
        }

        fn evolve(state: u32, event: &Event) -> u32 {
            match event {
                Event::Added(n) => state + n,
            }
        }
    }

    #[test]
    fn given_when_then_events() {
        DeciderSpec::<Counter>::given(vec![Event::Added(4)])
            .when(5)
            .then_events(vec![Event::Added(5)]);
    }

    #[test]
    fn given_when_then_error() {
        DeciderSpec::<Counter>::given(vec![Event::Added(4), Event::Added(5)])
            .when(2)
            .then_error(Error::Over { limit: 10 });
    }

    #[test]
    #[should_panic(expected = "expected error")]
    fn harness_fails_when_events_come_instead_of_error() {
        DeciderSpec::<Counter>::given_nothing()
            .when(1)
            .then_error(Error::Over { limit: 10 });
    }
}
