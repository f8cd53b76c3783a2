//! What can go wrong while sealing or verifying (tampering is not an
//! error: verification reports it as a finding).

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the seal tables could not {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Log(#[from] deedlog_eventstore::Error),
    /// A stored seal row does not have the shape every seal has.
    #[error("{0}")]
    Malformed(String),
    #[error(transparent)]
    Overflow(#[from] deedlog_kernel::Overflow),
}

impl Error {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Error::Database { context, source }
    }
}
