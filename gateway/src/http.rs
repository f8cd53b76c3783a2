//! The HTTP surface: `/graphql` (POST; GET serves GraphiQL in development,
//! its files under `/graphiql/assets/`), `/graphql/ws` (subscriptions,
//! graphql-transport-ws), `/webhooks/<provider>`, `/.well-known/jwks.json`
//! (the token verification keys), `/healthz`, `/readyz`, `/metrics`; with
//! body-size, time and rate limits, CORS from the settings and security
//! headers on every response.

use crate::app::AppState;
use crate::metrics::{CacheLabels, RequestLabels, ScopeLabels};
use crate::rate_limit::Key;
use crate::response_cache::Lookup;
use crate::schema::loaders::TenantLoader;
use crate::services::{ClientAddress, TraceParent};
use crate::tokens::VerifiedTokens;
use crate::viewer::{Credentials, Refused, Viewer};
use async_graphql::dataloader::DataLoader;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use deedlog_runtime::auth::TokenVerifier;
use deedlog_runtime::ErrorCode;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

/// The gateway's routes and protections.
pub fn router(
    state: Arc<AppState>,
    settings: &deedlog_runtime::settings::GatewaySettings,
) -> anyhow::Result<Router> {
    let origins = settings
        .cors_origins
        .iter()
        .map(|o| HeaderValue::from_str(o))
        .collect::<Result<Vec<_>, _>>()?;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ]);
    // `/graphql` reads its body itself, so that a body over the limit is
    // refused in GraphQL's error shape (crate::body).
    let graphql_route = Router::new().route("/graphql", post(graphql).get(graphiql));
    let mut routes = Router::new()
        .route("/graphql/ws", get(crate::subscription::websocket))
        .route("/webhooks/{provider}", post(crate::webhooks::receive))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics));
    if state.graphiql {
        for asset in &crate::graphiql::ASSETS {
            routes = routes.route(asset.path, get(move || async move { asset.response() }));
        }
    }
    let mut router = routes
        .layer(RequestBodyLimitLayer::new(state.max_body_bytes))
        .merge(graphql_route)
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout(),
        ))
        .layer(cors);
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    Ok(router)
}

/// Sent with every response; the API serves JSON, never pages to frame.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("cross-origin-resource-policy", "same-site"),
];

/// Verifies the bearer token, if any (its signature and claims only; see
/// [`admitted`] for the check against the tenant as it is now).
pub fn credentials(tokens: &VerifiedTokens, headers: &HeaderMap) -> Option<Credentials> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"))?;
    let verified = TokenVerifier::bearer(Some(header))
        .and_then(|token| {
            tokens.access(token).map(|caller| Viewer {
                caller,
                token: token.to_owned(),
            })
        })
        .map_err(Refused::Token);
    Some(Credentials(verified))
}

/// Verifies the bearer token, if any, and checks its user against their
/// tenant's roster as it is now: the viewer then has their current role.
pub async fn admitted(state: &AppState, headers: &HeaderMap) -> Option<Credentials> {
    let Credentials(verified) = credentials(&state.tokens, headers)?;
    Some(Credentials(match verified {
        Ok(viewer) => state.roster.admit(viewer).await,
        Err(refused) => Err(refused),
    }))
}

async fn graphql(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let started = Instant::now();
    let mut request = match crate::body::read(&headers, body, state.max_body_bytes).await {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let credentials = admitted(&state, &headers).await;
    let viewer = credentials.as_ref().and_then(|c| c.0.as_ref().ok());
    let limited = if !state.limiter.allow(Key::Ip(peer.ip())) {
        Some("ip")
    } else if viewer.is_some_and(|v| !state.limiter.allow(Key::User(v.caller.user.as_uuid()))) {
        Some("user")
    } else {
        None
    };
    let kind = operation_kind(&request.query);
    if let Some(scope) = limited {
        state
            .metrics
            .rate_limited
            .get_or_create(&ScopeLabels {
                scope: scope.to_owned(),
            })
            .inc();
        let mut http = crate::body::refusal(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many requests from this {scope}; slow down and retry in a few seconds"),
        );
        record_outcome(&state, kind, ErrorCode::RateLimited.graphql(), started);
        http.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return http;
    }
    let cached = match viewer {
        Some(viewer) if kind == "query" => state.responses.lookup(&request, viewer),
        _ => Lookup::Bypass,
    };
    let key = match cached {
        Lookup::Hit(body) => {
            cache_outcome(&state, "hit");
            record_outcome(&state, kind, "ok", started);
            return json_response(body);
        }
        Lookup::Miss(key) => Some(key),
        Lookup::Bypass => {
            cache_outcome(&state, "bypass");
            None
        }
    };
    if let Some(viewer) = viewer {
        request = request.data(DataLoader::new(
            TenantLoader {
                pool: state.reads.pool.clone(),
                tenant: viewer.caller.tenant.as_uuid(),
                transactions: state.reads.transactions.clone(),
            },
            tokio::spawn,
        ));
    }
    if let Some(credentials) = credentials {
        request = request.data(credentials);
    }
    request = request.data(ClientAddress(peer.ip()));
    // One span per request, the child of the caller's trace when it sent
    // one; the services join it through the traceparent they are given.
    let incoming = headers.get("traceparent").and_then(|v| v.to_str().ok());
    let span = tracing::info_span!(
        "graphql",
        otel.name = format!("graphql {kind}"),
        otel.kind = "server",
        deedlog.component = "gateway",
        graphql.operation.type = kind,
    );
    if let Some(tp) = incoming {
        deedlog_runtime::telemetry::follow(&span, tp);
    }
    if let Some(tp) = deedlog_runtime::telemetry::traceparent(&span).or(incoming.map(str::to_owned))
    {
        request = request.data(TraceParent(tp));
    }
    let mut response = state.schema.execute(request).instrument(span).await;
    coded_request_errors(&mut response);
    record(&state, kind, &response, started);
    let Some(key) = key else {
        return GraphQLResponse::from(response).into_response();
    };
    // Serialised once, whether kept or not; a kept answer is sent as it
    // was, byte for byte, and without its headers (only a plain answer,
    // with none of its own, is kept).
    let body = match serde_json::to_vec(&response) {
        Ok(body) => Bytes::from(body),
        Err(_) => return GraphQLResponse::from(response).into_response(),
    };
    let kept = state.responses.keep(key, &response, &body);
    cache_outcome(&state, if kept { "miss" } else { "unkept" });
    let mut http = json_response(body);
    http.headers_mut().extend(response.http_headers);
    http
}

/// A GraphQL answer's body as async-graphql-axum sends it.
fn json_response(body: Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/graphql-response+json"),
        )],
        body,
    )
        .into_response()
}

fn cache_outcome(state: &AppState, outcome: &'static str) {
    state
        .metrics
        .response_cache
        .get_or_create(&CacheLabels { outcome })
        .inc();
}

/// Errors raised before any resolver ran (syntax, unknown fields, wrong
/// argument types, depth and complexity limits) carry no code of ours:
/// they are the request's fault.
fn coded_request_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::InvalidArgument.graphql());
        }
    }
}

/// Counts and times a request by kind and its first error's code.
fn record(state: &AppState, kind: &str, response: &async_graphql::Response, started: Instant) {
    let outcome = response
        .errors
        .first()
        .map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_owned())
                .unwrap_or_else(|| "bad_request".to_owned())
        })
        .unwrap_or_else(|| "ok".to_owned());
    record_outcome(state, kind, &outcome, started);
}

fn record_outcome(state: &AppState, kind: &str, outcome: &str, started: Instant) {
    let labels = RequestLabels {
        kind: kind.to_owned(),
        outcome: outcome.to_lowercase(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
}

/// query or mutation, from the document's first keyword (for metrics only).
fn operation_kind(query: &str) -> &'static str {
    let first = query
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    match first {
        "mutation" => "mutation",
        "subscription" => "subscription",
        _ => "query",
    }
}

async fn graphiql(State(state): State<Arc<AppState>>) -> Response {
    if !state.graphiql {
        return crate::body::refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidArgument,
            "send GraphQL requests with POST; GraphiQL is off in production".to_owned(),
        );
    }
    crate::graphiql::page()
}

/// The public keys tokens are verified with, as a JWK Set.
async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            axum::http::header::CACHE_CONTROL,
            crate::jwks::CACHE_CONTROL,
        )],
        axum::Json(crate::jwks::JwkSet::of(state.tokens.verifier().keys())),
    )
        .into_response()
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if !state.accepting.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match sqlx::query("SELECT 1").execute(&state.reads.pool).await {
        Ok(_) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check: the read-model database is unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the read-model database is unreachable",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
