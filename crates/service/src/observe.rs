//! A tower layer around every command service: one span per request (the
//! child of the caller's `traceparent`, so a GraphQL mutation, the service's
//! work and the projector's work on its events form one trace) and the
//! request's latency in the service metrics. It also answers an oversized
//! request with RESOURCE_EXHAUSTED, as gRPC clients expect, where tonic's
//! decoder says OUT_OF_RANGE.

use crate::metrics;
use futures::future::BoxFuture;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::codegen::http;
use tracing::Instrument;

#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let span = tracing::info_span!(
            "grpc",
            otel.name = path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.grpc.status_code = tracing::field::Empty,
            deedlog.component = "service",
        );
        if let Some(tp) = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
        {
            deedlog_runtime::telemetry::follow(&span, tp);
        }
        let started = Instant::now();
        let answer = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let mut answer = answer.await;
                if let Ok(response) = &mut answer {
                    name_oversize(response.headers_mut());
                }
                // A refusal is a trailers-only answer: its status is a header.
                let code = match &answer {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or("OK", code_name),
                    Err(_) => "TRANSPORT",
                };
                tracing::Span::current().record("rpc.grpc.status_code", code);
                metrics::observe_request(&path, code, started.elapsed());
                answer
            }
            .instrument(span),
        )
    }
}

/// The largest request a service decodes (tonic's default).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Rewrites tonic's OUT_OF_RANGE for a too-large request (no service answers
/// OUT_OF_RANGE itself) as RESOURCE_EXHAUSTED with a message that says so.
fn name_oversize(headers: &mut http::HeaderMap) {
    let out_of_range = (tonic::Code::OutOfRange as i32).to_string();
    if headers.get("grpc-status").and_then(|v| v.to_str().ok()) != Some(&out_of_range) {
        return;
    }
    let code = (tonic::Code::ResourceExhausted as i32).to_string();
    let message = format!(
        "the request is larger than {} MiB, the most a command accepts",
        MAX_REQUEST_BYTES / (1024 * 1024)
    )
    .replace(' ', "%20")
    .replace(',', "%2C");
    if let (Ok(code), Ok(message)) = (
        http::HeaderValue::from_str(&code),
        http::HeaderValue::from_str(&message),
    ) {
        headers.insert("grpc-status", code);
        headers.insert("grpc-message", message);
    }
}

fn code_name(code: i32) -> &'static str {
    match tonic::Code::from_i32(code) {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
