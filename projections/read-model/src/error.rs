//! What can go wrong reading a read model.

use std::time::Duration;

/// An error of a read-model query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument the caller passed cannot be used; `message` says why in
    /// words a person understands, `field` names the argument.
    #[error("invalid `{field}`: {message}")]
    BadInput {
        /// The argument, e.g. `first` or `after`.
        field: &'static str,
        /// Why it is refused.
        message: String,
    },
    /// A read model had not reached the awaited log position in time.
    #[error(
        "the {projection} read model has reached log position {reached}, not yet {awaited}; \
         gave up after {waited:?}"
    )]
    NotCaughtUp {
        /// The projection that lags.
        projection: &'static str,
        /// The position awaited.
        awaited: u64,
        /// The position it had reached when the wait ended.
        reached: u64,
        /// How long the wait lasted.
        waited: Duration,
    },
    /// The database failed or refused a statement.
    #[error("{context}: {source}")]
    Database {
        /// What was being done, e.g. `list properties`.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored number does not fit the type the API gives it.
    #[error(transparent)]
    Overflow(#[from] deedlog_kernel::Overflow),
    /// A sealed personal field that does not open (names the event's position).
    #[error(transparent)]
    Privacy(#[from] deedlog_privacy::Error),
}

impl Error {
    /// Wraps a driver error with what was being done (for `map_err`).
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { context, source }
    }

    pub(crate) fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            field,
            message: message.into(),
        }
    }
}
