//! The gateway as a server: [`Gateway::build`] connects and binds (port 0
//! allowed), [`Gateway::run_until_stopped`] serves until the shutdown token
//! fires and in-flight requests have finished.

use crate::http;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::schema::{self, reads::Reads, DeedlogSchema};
use crate::services::Services;
use anyhow::Context;
use deedlog_runtime::auth::TokenVerifier;
use deedlog_runtime::settings::{Environment, Settings};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What every request handler shares.
pub struct AppState {
    pub schema: DeedlogSchema,
    /// Verifies access tokens, each signature once.
    pub tokens: crate::tokens::VerifiedTokens,
    /// Each caller's current role and status, checked on every request.
    pub roster: crate::roster::Roster,
    pub reads: Reads,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    pub graphiql: bool,
    /// The largest `/graphql` body read (`gateway.max_body_bytes`).
    pub max_body_bytes: usize,
    pub webhooks: crate::webhooks::Webhooks,
    /// Query responses kept until a read model changes.
    pub responses: crate::response_cache::ResponseCache,
    /// False once shutdown began: `/readyz` then says so.
    pub accepting: AtomicBool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The gateway, bound and ready to serve.
#[derive(Debug)]
pub struct Gateway {
    listener: TcpListener,
    state: Arc<AppState>,
    settings: deedlog_runtime::settings::GatewaySettings,
}

impl Gateway {
    /// Prepares the service clients and binds; reads the read models
    /// through `pool` (the process's pool of the connecting user).
    /// `tenancy_url` is where tenancy listens (also for `services.tenancy_url`).
    pub async fn build(
        settings: &Settings,
        verifier: TokenVerifier,
        tenancy_url: &str,
        pool: sqlx::PgPool,
        keyring: deedlog_privacy::Keyring,
    ) -> anyhow::Result<Self> {
        let g = &settings.gateway;
        let endpoints = deedlog_client::Endpoints {
            tenancy: tenancy_url.to_owned(),
            properties: g.properties_url.clone(),
            deals: g.deals_url.clone(),
            communications: g.communications_url.clone(),
        };
        // The services may start after the gateway: connect on first use.
        let services = Services::connect_lazy(&endpoints, Some(g.request_timeout()))?;
        let metrics = Metrics::default();
        // The gateway's one LISTEN session: read-model changes and log ticks.
        let (checkpoints, ticks) = crate::checkpoints::Checkpoints::start(pool.clone());
        let reads = Reads {
            pool,
            max_wait: g.max_wait(),
            transactions: metrics.read_transactions.clone(),
            checkpoints: checkpoints.clone(),
        };
        let roster = crate::roster::Roster::new(
            services.tenancy.clone(),
            settings.services.tenant_cache_ttl(),
        );
        let production = settings.environment == Environment::Production;
        let mut builder = schema::builder()
            .data(reads.clone())
            .data(services.clone())
            .data(roster.clone())
            .data(keyring)
            .data(ticks)
            .limit_depth(g.max_depth as usize)
            .limit_complexity(g.max_complexity as usize);
        if production {
            builder = builder.disable_introspection();
        }
        let schema = builder.finish();
        let listener = TcpListener::bind(g.listen)
            .await
            .with_context(|| format!("bind the gateway to {}", g.listen))?;
        let state = Arc::new(AppState {
            schema,
            tokens: crate::tokens::VerifiedTokens::new(verifier),
            roster,
            reads,
            limiter: RateLimiter::new(g.rate_limit_per_user, g.rate_limit_per_ip),
            metrics,
            graphiql: g.graphiql && !production,
            // validate() keeps it within 1 KiB..64 MiB, which fits any usize.
            max_body_bytes: deedlog_kernel::number::fit(
                "gateway.max_body_bytes",
                g.max_body_bytes,
            )?,
            webhooks: crate::webhooks::Webhooks::new(&g.webhooks, services),
            responses: crate::response_cache::ResponseCache::new(
                g.response_cache_bytes(),
                checkpoints,
            ),
            accepting: AtomicBool::new(true),
        });
        Ok(Self {
            listener,
            state,
            settings: g.clone(),
        })
    }

    /// Where the gateway listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// Serves until `shutdown` is cancelled, then stops accepting and lets
    /// in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = self.state.clone();
        let router = http::router(self.state, &self.settings)?;
        let stopping = shutdown.clone();
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            stopping.cancelled().await;
            state
                .accepting
                .store(false, std::sync::atomic::Ordering::SeqCst);
        })
        .await
        .context("serve the gateway")
    }
}
