//! Starts the real cluster the way `deedlog up` does, on port 0 and a fresh
//! database, and drops the database afterwards.

use deedlog_cluster::{Cluster, Component};
use deedlog_runtime::auth::KeyPair;
use deedlog_runtime::settings::{Overrides, Settings};
use figment::Figment;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The server tests use: `DEEDLOG_TEST_ADMIN_URL`, or the local PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("DEEDLOG_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of database `name` on that server.
pub fn database_url(name: &str) -> String {
    let base = admin_url();
    let (prefix, _) = base.rsplit_once('/').expect("admin URL has a database");
    format!("{prefix}/{name}")
}

/// A running cluster with a database of its own.
#[derive(Debug)]
pub struct TestCluster {
    pub database: String,
    /// The key tokens are signed with, so tests can forge tokens that differ in one way only.
    pub signing: KeyPair,
    pub settings: Settings,
    addresses: Vec<(Component, SocketAddr)>,
    /// Where the projector serves `/metrics`, when it runs.
    pub projector_metrics: Option<SocketAddr>,
    /// Where the command services serve `/metrics`.
    pub service_metrics: Option<SocketAddr>,
    /// Whether dropping this cluster drops the database (not for a second instance).
    owns_database: bool,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestCluster {
    /// Starts every command service.
    pub async fn start() -> Self {
        Self::start_with(|figment| figment).await
    }

    /// Starts every component (services, projector, gateway), as `deedlog up` does.
    pub async fn start_with_projector() -> Self {
        Self::start_all_with(|f| f).await
    }

    /// Starts every component with extra settings.
    pub async fn start_all_with(tweak: impl FnOnce(Figment) -> Figment) -> Self {
        let database = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let signing = KeyPair::generate(Some("test-key".into())).expect("key");
        Self::start_on_with(database, signing, true, &Component::ALL, |f| {
            // No background verification: tests reconcile when they mean to.
            tweak(
                f.merge(("projector.lease_interval_ms", 200))
                    .merge(("projector.verify_interval_s", 0)),
            )
        })
        .await
    }

    /// Starts `components` (e.g. every one and the Kafka relay) with extra settings.
    pub async fn start_components_with(
        components: &[Component],
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> Self {
        let database = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let signing = KeyPair::generate(Some("test-key".into())).expect("key");
        Self::start_on_with(database, signing, true, components, |f| {
            // No background verification: tests reconcile when they mean to.
            tweak(
                f.merge(("projector.lease_interval_ms", 200))
                    .merge(("projector.verify_interval_s", 0)),
            )
        })
        .await
    }

    /// Starts every command service with extra settings.
    pub async fn start_with(tweak: impl FnOnce(Figment) -> Figment) -> Self {
        let database = format!("deedlog_test_{}", Uuid::now_v7().simple());
        let signing = KeyPair::generate(Some("test-key".into())).expect("key");
        Self::start_on(database, signing, true, tweak).await
    }

    /// Another instance of every service against this cluster's database and
    /// key, as a second deployment would run.
    pub async fn second_instance(&self) -> Self {
        Self::start_on(self.database.clone(), self.signing.clone(), false, |f| f).await
    }

    async fn start_on(
        database: String,
        signing: KeyPair,
        owns_database: bool,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> Self {
        Self::start_on_with(
            database,
            signing,
            owns_database,
            &Component::COMMAND_SERVICES,
            tweak,
        )
        .await
    }

    async fn start_on_with(
        database: String,
        signing: KeyPair,
        owns_database: bool,
        components: &[Component],
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> Self {
        let url = database_url(&database);
        let overrides = Overrides {
            database_url: Some(url),
            ..Overrides::default()
        };
        let mut figment = Settings::figment(None, &overrides).expect("settings");
        for (key, value) in [
            ("services.tenancy_listen", "127.0.0.1:0"),
            ("services.properties_listen", "127.0.0.1:0"),
            ("services.deals_listen", "127.0.0.1:0"),
            ("services.communications_listen", "127.0.0.1:0"),
            ("gateway.listen", "127.0.0.1:0"),
            ("projector.metrics_listen", "127.0.0.1:0"),
            ("services.metrics_listen", "127.0.0.1:0"),
            ("sealing.metrics_listen", "127.0.0.1:0"),
        ] {
            figment = figment.merge((key, value));
        }
        figment = figment
            .merge(("services.tenant_cache_ttl_ms", 0))
            .merge(("database.max_connections", 16));
        figment = figment.merge((
            "auth.signing_key",
            signing
                .private_pem()
                .expect("pem")
                .expose_secret()
                .to_owned(),
        ));
        figment = figment.merge(("auth.kid", "test-key"));
        let settings = Settings::from_figment(tweak(figment)).expect("valid test settings");
        let cluster = Cluster::build(&settings, components, true)
            .await
            .expect("cluster builds");
        let addresses = cluster.addresses();
        let projector_metrics = cluster.projector_metrics_addr();
        let service_metrics = cluster.service_metrics_addr();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(cluster.run_until_stopped(shutdown.clone()));
        Self {
            database,
            signing,
            settings,
            addresses,
            projector_metrics,
            service_metrics,
            owns_database,
            shutdown,
            server: Some(server),
        }
    }

    pub fn url(&self, component: Component) -> String {
        let addr = self
            .addresses
            .iter()
            .find(|(c, _)| *c == component)
            .map(|(_, a)| *a)
            .expect("component runs");
        format!("http://{addr}")
    }

    /// Options to connect to the test database as its owner.
    pub fn database_options(&self) -> PgConnectOptions {
        admin_url()
            .parse::<PgConnectOptions>()
            .expect("admin URL")
            .database(&self.database)
    }

    /// Waits until every projection has applied the log up to `position`
    /// (a position a command reply returned); panics after 30 s.
    pub async fn wait_for_read_models(&self, position: u64) {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.database_options())
            .await
            .expect("connect");
        deedlog_read_model::wait_for(
            &pool,
            &deedlog_read_model::Projection::ALL,
            position,
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("the read models reach the position");
        pool.close().await;
    }

    /// Stops the servers, waiting for in-flight requests.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await.expect("join").expect("servers stop cleanly");
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if !self.owns_database {
            return;
        }
        let database = self.database.clone();
        // Dropping needs a runtime of its own: the test's may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(options) = admin_url().parse::<PgConnectOptions>() else {
                    return;
                };
                if let Ok(mut conn) = options.connect().await {
                    let _ = sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
