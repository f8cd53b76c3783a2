//! The metadata a call carries on its caller's behalf: `authorization:
//! Bearer <access token>` (the services check it themselves) and the W3C
//! `traceparent` of the caller's span, so the events appended join its trace.

use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// A token that cannot be sent: it is not a valid header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the access token is not a header value")]
pub struct InvalidToken;

/// Who calls and in which trace; nobody, in no trace, by default (as for
/// `Login`). Adds its metadata to a request, or to every request of a
/// client as an [`Interceptor`].
#[derive(Debug, Clone, Default)]
pub struct Caller {
    authorization: Option<AsciiMetadataValue>,
    traceparent: Option<AsciiMetadataValue>,
}

impl Caller {
    /// The caller holding the access token `token`.
    pub fn with_bearer(token: &str) -> Result<Self, InvalidToken> {
        let authorization = format!("Bearer {token}")
            .parse()
            .map_err(|_| InvalidToken)?;
        Ok(Self {
            authorization: Some(authorization),
            traceparent: None,
        })
    }

    /// The same caller within the trace `traceparent`; a value that cannot
    /// be a header is left out (the call is then traced on its own).
    pub fn in_trace(self, traceparent: &str) -> Self {
        Self {
            traceparent: traceparent.parse().ok(),
            ..self
        }
    }

    /// `message` as this caller's request.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        self.mark(request.metadata_mut());
        request
    }

    fn mark(&self, metadata: &mut MetadataMap) {
        if let Some(value) = &self.authorization {
            metadata.insert("authorization", value.clone());
        }
        if let Some(value) = &self.traceparent {
            metadata.insert("traceparent", value.clone());
        }
    }
}

impl Interceptor for Caller {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.mark(request.metadata_mut());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn header<T>(request: &Request<T>, name: &str) -> Option<String> {
        let value = request.metadata().get(name)?;
        Some(value.to_str().expect("ascii").to_owned())
    }

    #[test]
    fn a_bearer_and_a_trace_are_sent_as_headers() {
        let caller = Caller::with_bearer("abc").expect("ascii").in_trace(TRACE);
        let request = caller.request(());
        assert_eq!(
            header(&request, "authorization").as_deref(),
            Some("Bearer abc")
        );
        assert_eq!(header(&request, "traceparent").as_deref(), Some(TRACE));
    }

    #[test]
    fn the_interceptor_adds_the_same_headers() {
        let mut caller = Caller::with_bearer("abc").expect("ascii");
        let request = caller.call(Request::new(())).expect("intercepted");
        assert_eq!(
            header(&request, "authorization").as_deref(),
            Some("Bearer abc")
        );
        assert_eq!(header(&request, "traceparent"), None);
    }

    #[test]
    fn nobody_sends_nothing_and_a_bad_token_is_refused() {
        let request = Caller::default().in_trace("\n").request(());
        assert!(request.metadata().is_empty());
        assert_eq!(Caller::with_bearer("a\nb").err(), Some(InvalidToken));
    }
}
