//! Who is asking: the bearer token verified once per request, and the role
//! checks every resolver makes before any work.

use crate::error::{forbidden, from_auth};
use async_graphql::{Context, Result};
use deedlog_kernel::Role;
use deedlog_runtime::auth::{Caller, Error as AuthError};

/// A caller whose access token was verified (signature, algorithm, issuer,
/// audience, expiry, key id), with the token to forward to the services.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub token: String,
}

/// What the request's `authorization` header proved: a viewer, or why not.
#[derive(Debug, Clone)]
pub struct Credentials(pub Result<Viewer, AuthError>);

/// The verified caller, or UNAUTHENTICATED naming what was wrong.
pub fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer> {
    match ctx.data_opt::<Credentials>() {
        Some(Credentials(Ok(viewer))) => Ok(viewer),
        Some(Credentials(Err(error))) => Err(from_auth(error.clone())),
        None => Err(from_auth(AuthError::Missing)),
    }
}

/// The verified caller, if their role passes `check`; FORBIDDEN naming
/// `what` otherwise.
pub fn allowed<'a>(ctx: &Context<'a>, check: fn(Role) -> bool, what: &str) -> Result<&'a Viewer> {
    let viewer = viewer(ctx)?;
    if check(viewer.caller.role) {
        Ok(viewer)
    } else {
        Err(forbidden(what))
    }
}
