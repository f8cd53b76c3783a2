//! What every command service shares: it verifies the caller's token,
//! builds command metadata, asks tenancy what a decision needs, runs load →
//! decide → append with bounded retries, maps failures to gRPC statuses, and
//! serves with health and reflection.

pub mod as_of;
pub mod cache;
pub mod context;
pub mod convert;
pub mod directory;
pub mod error;
pub mod executor;
pub mod metrics;
pub mod observe;
pub mod paths;
pub mod record_lock;
pub mod record_request;
pub mod reference;
pub mod request;
pub mod server;
pub mod together;

pub use as_of::state_as_of;
pub use context::{Admitted, Answer, Context};
pub use directory::{Directory, TenantInfo, UserInfo};
pub use error::Error;
pub use executor::{Executed, Executor, Target};
pub use paths::Paths;
pub use record_request::{CommandRequest, RecordRequest};
pub use request::{Authenticated, Authenticator, CommandEnvelope};
pub use server::BoundServer;
pub use together::Part;

/// Refuses the caller unless `allowed` holds for their role.
pub fn require_role(
    auth: &Authenticated,
    allowed: impl Fn(deedlog_kernel::Role) -> bool,
    what: &str,
) -> Result<(), Error> {
    if allowed(auth.caller.role) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "{} may not {what}",
            auth.caller.role.with_article()
        )))
    }
}
