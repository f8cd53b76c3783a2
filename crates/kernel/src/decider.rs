//! The decider: the pure heart of every aggregate.
//!
//! `decide` turns a command and the current state into new events or a
//! refusal; `evolve` folds one event into the state. Both are synchronous and
//! free of I/O: time, ids and anything looked up elsewhere travel inside the
//! command, so replaying the same events always yields the same state.

/// An event of a domain, with the name and schema version it is stored under.
pub trait DomainEvent {
    /// The stored type name, e.g. `PropertyListed` (see [`crate::validate_name`]).
    fn event_type(&self) -> &'static str;

    /// The schema version this code writes; older stored versions are upcast on read.
    fn schema_version(&self) -> u32 {
        1
    }
}

/// A domain's command: what is asked and the instant it was accepted. Time
/// travels with the command so that `decide` never reads a clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed<A> {
    pub at: chrono::DateTime<chrono::Utc>,
    pub action: A,
}

/// The rules of one kind of record.
pub trait Decider {
    /// The stream type of its records in the log (one of [`crate::stream_type`]).
    const STREAM_TYPE: &'static str;
    type State: Default;
    type Command;
    type Event;
    type Error;

    /// Decides which events a command produces, or why it is refused.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one event to the state.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

/// Rebuilds a state from its full history.
pub fn replay<'a, D>(events: impl IntoIterator<Item = &'a D::Event>) -> D::State
where
    D: Decider,
    D::Event: 'a,
{
    events.into_iter().fold(D::State::default(), D::evolve)
}

/// How a domain classifies its own refusals, so that every adapter reports
/// them alike (bad argument with its field, missing record, rule refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalKind {
    /// The command itself is malformed; `field` names what to fix.
    InvalidArgument { field: String, reason: String },
    /// The record the command is about does not exist.
    NotFound,
    /// The rules refuse the command in the record's current state.
    Refused(Reason),
}

/// Why a rule refused, for programs: a stable `code` in SCREAMING_SNAKE_CASE
/// (part of the API, like an event type) and its particulars under
/// lowerCamelCase keys, as gRPC's `google.rpc.ErrorInfo` carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub details: Vec<(&'static str, String)>,
}

impl Reason {
    pub fn new(code: &'static str) -> Self {
        Reason {
            code,
            details: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl std::fmt::Display) -> Self {
        self.details.push((key, value.to_string()));
        self
    }

    /// A list of values as one detail, comma-separated.
    pub fn with_list<T: std::fmt::Display>(self, key: &'static str, values: &[T]) -> Self {
        let list: Vec<String> = values.iter().map(ToString::to_string).collect();
        self.with(key, list.join(","))
    }
}

/// A domain error that knows its kind; its `Display` is the reason in words.
pub trait Refusal: std::fmt::Display {
    fn kind(&self) -> RefusalKind;
}

/// Declares a domain's decider: a unit struct whose [`Decider`] impl hands
/// over to the domain's plain `decide` and `evolve` functions, so that each
/// domain states only what differs (its stream type, types and functions).
///
/// ```ignore
/// deedlog_kernel::decider! {
///     /// The deals decider.
///     pub struct Deals: DEAL, State, Command => Event, Error;
///     decide = decide::decide, evolve = state::evolve
/// }
/// ```
#[macro_export]
macro_rules! decider {
    (
        $(#[$doc:meta])*
        pub struct $name:ident: $stream_type:ident, $state:ty, $command:ty => $event:ty, $error:ty;
        decide = $decide:path, evolve = $evolve:path
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl $crate::Decider for $name {
            const STREAM_TYPE: &'static str = $crate::stream_type::$stream_type;
            type State = $state;
            type Command = $command;
            type Event = $event;
            type Error = $error;

            fn decide(state: &$state, command: &$command) -> Result<Vec<$event>, $error> {
                $decide(state, command)
            }

            fn evolve(state: $state, event: &$event) -> $state {
                $evolve(state, event)
            }
        }
    };
}

/// Implements [`DomainEvent`] for an event enum whose stored type names are
/// its variant names (as its serde tag writes them), so that no name is
/// spelled twice. The list names every variant: the match is exhaustive.
#[macro_export]
macro_rules! event_types {
    ($event:ident { $($variant:ident),+ $(,)? }) => {
        impl $crate::DomainEvent for $event {
            fn event_type(&self) -> &'static str {
                match self {
                    $($event::$variant { .. } => stringify!($variant),)+
                }
            }
        }
    };
}
