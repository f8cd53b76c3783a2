//! What can go wrong with personal data's keys and seals.

/// A failure of the privacy layer. Every variant about stored data names
/// the event's position, so a damaged ciphertext is found, not guessed at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is missing or malformed; names the setting.
    #[error("{setting} {reason}")]
    Setting { setting: String, reason: String },
    /// The master key does not unwrap the keys in this database.
    #[error("{setting} is not the master key this database's data keys are wrapped under (the database's is {stored}, this key's is {given}); set it to that key, or add the new one after `deedlog privacy rotate-master-key`")]
    WrongMasterKey {
        setting: String,
        stored: String,
        given: String,
    },
    /// A sealed field of a stored event does not open.
    #[error(
        "the event at position {position} ({event_type}) has a sealed field `{path}` that {reason}"
    )]
    Damaged {
        position: u64,
        event_type: String,
        path: String,
        reason: String,
    },
    /// A personal field cannot be sealed (e.g. its subject was forgotten).
    #[error("personal data of {event_type} cannot be sealed: {reason}")]
    Seal { event_type: String, reason: String },
    #[error("the key table could not {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cryptography failed to {0}")]
    Crypto(&'static str),
}

impl Error {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Error::Database { context, source }
    }
}
