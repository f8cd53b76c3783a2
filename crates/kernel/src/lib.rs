//! Pure building blocks of deedlog's event sourcing.
//!
//! Nothing here performs I/O, reads a clock or draws randomness: ids and time
//! are values handed in by the caller, so every decision is reproducible.

pub mod access;
pub mod calendar;
pub mod codec;
pub mod contact_point;
pub mod country;
pub mod decider;
pub mod harness;
pub mod ids;
pub mod metadata;
pub mod money;
pub mod names;
pub mod number;
pub mod privacy;
pub mod redaction;
pub mod role;
pub mod stored_name;
pub mod stream_type;

pub use access::{current_role, Denied, MemberStatus, Membership, TENANT_SUSPENDED};
pub use country::{normalise_country, CountryError};
pub use decider::{replay, Decider, DomainEvent, Reason, Refusal, RefusalKind, Timed};
pub use harness::DeciderSpec;
pub use ids::{CausationId, CommandId, CorrelationId, StreamId, TenantId, UserId};
pub use metadata::{CommandMetadata, TraceContext};
pub use money::{Currency, CurrencyError, Money};
pub use names::{validate_name, NameError};
pub use number::Overflow;
pub use role::{Module, Role};
