//! The command services as the gateway calls them: one lazily connected
//! channel each; every call carries the caller's own token (the services
//! check it again) and the request's trace context.

use crate::viewer::Viewer;
use deedlog_client::Caller;

/// Clients of the four command services.
pub type Services = deedlog_client::Clients;

/// A request on behalf of `viewer` (or of nobody, for login); a token or a
/// trace context that cannot be a header is left out (the service then
/// refuses the call as unauthenticated, or traces it on its own).
pub fn request<T>(
    viewer: Option<&Viewer>,
    trace: Option<&TraceParent>,
    body: T,
) -> tonic::Request<T> {
    let caller = viewer
        .and_then(|viewer| Caller::with_bearer(&viewer.token).ok())
        .unwrap_or_default();
    let caller = match trace {
        Some(TraceParent(tp)) => caller.in_trace(tp),
        None => caller,
    };
    caller.request(body)
}

/// The W3C `traceparent` of the HTTP request, passed on to the services so
/// the events they append join the caller's trace.
#[derive(Debug, Clone)]
pub struct TraceParent(pub String);

/// The address of the HTTP client (the browser) a request came from: the
/// gateway names it to tenancy when it calls `Login` for that client, so
/// that failed logins are throttled per client, not per gateway.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);
