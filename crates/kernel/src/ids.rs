//! Typed identifiers. All are UUIDs (v7, time-ordered, when deedlog makes them);
//! the wrapper types keep a tenant id from being passed where a stream id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Declares a UUID newtype with the conversions every id needs.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Returns the wrapped UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A platform tenant: one brokerage or property manager.
    TenantId
);
uuid_id!(
    /// One record's stream of events (a property, a deal, a contact, ...).
    StreamId
);
uuid_id!(
    /// A client-chosen command id; the same id sent again returns the first outcome.
    CommandId
);
uuid_id!(
    /// Ties together everything caused by one user action.
    CorrelationId
);
uuid_id!(
    /// The command or event that directly caused an event.
    CausationId
);
uuid_id!(
    /// A user within a tenant.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = StreamId::from_uuid(Uuid::from_u128(42));
        let parsed: StreamId = id.to_string().parse().expect("display output parses");
        assert_eq!(parsed, id);
    }

    #[test]
    fn malformed_id_is_rejected() {
        assert!("not-a-uuid".parse::<TenantId>().is_err());
    }
}
