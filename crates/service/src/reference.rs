//! Records a command names that another record keeps: a deal's property and
//! buyer, a property's owner, a message's property and deal. They must be
//! records of the caller's own tenant, of the right kind, or the command is
//! refused with NOT_FOUND naming the request's field (in the message and as
//! a `BadRequest` field violation, so the gateway can name its own input);
//! a record of another tenant reads as no record at all, so nobody learns
//! it exists.
//!
//! This is I/O, so it is the adapter's job, done before the domain decides
//! (which stays pure). It reads only the first event of the named stream:
//! the stream's kind and tenant, never another context's state or crate.
//! An archived record still exists (archiving is reversible and keeps its
//! history), so it may be named; a record that is only named by another's
//! event does not exist until its own first event is in the log.

use crate::error::Error;
use crate::executor::Executor;
use deedlog_eventstore::{StreamQuery, Until};
use deedlog_kernel::stream_type;
use deedlog_kernel::{StreamId, TenantId};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

/// A kind of record another record may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The stream type of its records, e.g. `property`.
    pub stream_type: &'static str,
    /// What a person calls it, e.g. "property".
    pub noun: &'static str,
}

/// A property of the properties context.
pub const PROPERTY: Kind = Kind {
    stream_type: stream_type::PROPERTY,
    noun: "property",
};
/// A deal of the deals context.
pub const DEAL: Kind = Kind {
    stream_type: stream_type::DEAL,
    noun: "deal",
};
/// A contact of the communications context.
pub const CONTACT: Kind = Kind {
    stream_type: stream_type::CONTACT,
    noun: "contact",
};

/// Refuses with NOT_FOUND, naming `field`, unless `id` is a record of `kind`
/// in `tenant`.
pub async fn require(
    executor: &Executor,
    tenant: TenantId,
    field: &str,
    kind: Kind,
    id: Uuid,
) -> Result<(), tonic::Status> {
    let first = StreamQuery {
        from_version: 1,
        until: Until::Version(1),
    };
    let events = executor
        .store()
        .read_stream(tenant, StreamId::from_uuid(id), first)
        .await
        .map_err(Error::from)?;
    match events.first() {
        Some(event) if event.stream_type == kind.stream_type => Ok(()),
        _ => {
            let reason = format!("there is no {} {id} in your tenant", kind.noun);
            let mut details = ErrorDetails::new();
            details.add_bad_request_violation(field, reason.clone());
            Err(tonic::Status::with_error_details(
                tonic::Code::NotFound,
                format!("{field}: {reason}"),
                details,
            ))
        }
    }
}

/// Like [`require`] for a reference the request may leave out.
pub async fn require_optional(
    executor: &Executor,
    tenant: TenantId,
    field: &str,
    kind: Kind,
    id: Option<Uuid>,
) -> Result<(), tonic::Status> {
    match id {
        Some(id) => require(executor, tenant, field, kind, id).await,
        None => Ok(()),
    }
}
