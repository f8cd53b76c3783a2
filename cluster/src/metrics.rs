//! A `/metrics` endpoint for the parts that serve no HTTP of their own
//! (command services, projector, relay): Prometheus text rendered at each
//! scrape, with `/healthz` (the process answers) and `/readyz` (and is not
//! shutting down) for orchestrators' probes.

use anyhow::Context;
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Renders the current series.
pub type Render = Arc<dyn Fn() -> BoxFuture<'static, String> + Send + Sync>;

/// Binds `listen` for `what`'s metrics; None when `listen` is empty.
pub async fn bind(listen: &str, what: &str) -> anyhow::Result<Option<TcpListener>> {
    if listen.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind the {what}'s metrics to {listen}"))?;
    Ok(Some(listener))
}

/// Serves `/metrics` until shutdown.
pub async fn serve(
    listener: TcpListener,
    render: Render,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let stopping = shutdown.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let render = render.clone();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4")],
                        render().await,
                    )
                }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let stopping = stopping.is_cancelled();
                async move {
                    if stopping {
                        (http::StatusCode::SERVICE_UNAVAILABLE, "shutting down")
                    } else {
                        (http::StatusCode::OK, "ready")
                    }
                }
            }),
        );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("serve metrics")
}
