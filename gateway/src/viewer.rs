//! Who is asking: the bearer token verified once per request, checked
//! against the tenant's roster as it is now ([`crate::roster`]), and the
//! role checks every resolver makes before any work.

use crate::error::{coded, forbidden, from_auth};
use async_graphql::{Context, Result};
use deedlog_kernel::Role;
use deedlog_runtime::auth::{Caller, Error as AuthError};
use deedlog_runtime::ErrorCode;

/// A caller whose access token was verified (signature, algorithm, issuer,
/// audience, expiry, key id) and who is an active user of the tenant now,
/// with their current role (not the token's claim), and the token to
/// forward to the services.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub token: String,
}

/// Why a request's token is not taken.
#[derive(Debug, Clone)]
pub enum Refused {
    /// The token itself was not accepted.
    Token(AuthError),
    /// The token is genuine but its user may not act now (deactivated,
    /// unknown, or of a suspended tenant), or cannot be checked.
    Now { code: ErrorCode, message: String },
}

impl Refused {
    /// As a GraphQL error with `extensions.code`.
    pub fn error(&self) -> async_graphql::Error {
        match self {
            Refused::Token(error) => from_auth(error.clone()),
            Refused::Now { code, message } => coded(*code, message.clone()),
        }
    }

    /// The graphql-transport-ws close code: 4401 when the token proves no
    /// one usable, 4403 when it is genuine but may not be used now.
    pub fn close_code(&self) -> u16 {
        match self {
            Refused::Now {
                code: ErrorCode::RuleRefused | ErrorCode::PermissionDenied,
                ..
            } => 4403,
            Refused::Now {
                code: ErrorCode::Unavailable,
                ..
            } => 4500,
            _ => 4401,
        }
    }
}

/// What the request's `authorization` header proved: a viewer, or why not.
#[derive(Debug, Clone)]
pub struct Credentials(pub Result<Viewer, Refused>);

/// The verified caller, or UNAUTHENTICATED naming what was wrong.
pub fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer> {
    match ctx.data_opt::<Credentials>() {
        Some(Credentials(Ok(viewer))) => Ok(viewer),
        Some(Credentials(Err(refused))) => Err(refused.error()),
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
