//! The composition root. [`Cluster::build`] prepares the database, loads or
//! generates keys and binds a listener per component (port 0 allowed; the
//! real addresses are reported); [`Cluster::run_until_stopped`] serves them
//! until the shutdown token fires. `deedlog up` builds every component in
//! one process, `deedlog serve <component>` one of them, and the end-to-end
//! tests the same way.

pub mod budget;
pub mod keys;
pub mod metrics;
pub mod projector;

use anyhow::Context;
use deedlog_eventstore::{ConnectOptions, EventStore, LogReader, Upcasters};
use deedlog_runtime::auth::{Audience, TokenVerifier};
use deedlog_runtime::settings::Settings;
use deedlog_service::{Authenticator, BoundServer, Directory, Executor};
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::Routes;

/// A part of deedlog that runs as a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    Tenancy,
    Properties,
    Deals,
    Communications,
    /// The projector: builds the read models from the log (no listener).
    Projector,
    /// The GraphQL gateway (HTTP).
    Gateway,
    /// Publishes the log to Kafka (no listener; only with kafka.brokers).
    Relay,
}

impl Component {
    pub const COMMAND_SERVICES: [Component; 4] = [
        Component::Tenancy,
        Component::Properties,
        Component::Deals,
        Component::Communications,
    ];

    /// Everything `deedlog up` runs.
    pub const ALL: [Component; 6] = [
        Component::Tenancy,
        Component::Properties,
        Component::Deals,
        Component::Communications,
        Component::Projector,
        Component::Gateway,
    ];

    /// Where a command service listens (the gateway binds its own; the
    /// projector does not listen).
    fn listen(self, settings: &Settings) -> Option<SocketAddr> {
        let s = &settings.services;
        match self {
            Component::Tenancy => Some(s.tenancy_listen),
            Component::Properties => Some(s.properties_listen),
            Component::Deals => Some(s.deals_listen),
            Component::Communications => Some(s.communications_listen),
            Component::Projector | Component::Gateway | Component::Relay => None,
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that `{:<15}` lines the addresses up.
        f.pad(match self {
            Component::Tenancy => "tenancy",
            Component::Properties => "properties",
            Component::Deals => "deals",
            Component::Communications => "communications",
            Component::Projector => "projector",
            Component::Gateway => "gateway",
            Component::Relay => "relay",
        })
    }
}

/// A component bound to its address, ready to serve.
struct Bound {
    component: Component,
    server: BoundServer,
    service_name: &'static str,
    routes: Routes,
}

/// Every requested component, bound.
pub struct Cluster {
    bound: Vec<Bound>,
    projector: Option<projector::ProjectorPart>,
    relay: Option<(deedlog_kafka::Relay, Option<tokio::net::TcpListener>)>,
    gateway: Option<deedlog_gateway::Gateway>,
    /// The command services' `/metrics`, when any runs here.
    service_metrics: Option<tokio::net::TcpListener>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.addresses().iter().map(|(c, a)| (c.to_string(), a)))
            .finish()
    }
}

impl Cluster {
    /// Prepares the database (creating and migrating it when `migrate`),
    /// connects, and binds `components`.
    pub async fn build(
        settings: &Settings,
        components: &[Component],
        migrate: bool,
    ) -> anyhow::Result<Self> {
        // Before touching the database: nothing is created for a relay
        // that could not run.
        anyhow::ensure!(
            !components.contains(&Component::Relay) || settings.kafka.enabled(),
            "the relay needs kafka.brokers (e.g. DEEDLOG__KAFKA__BROKERS=127.0.0.1:9092)"
        );
        // One pool per role, shared by the components: the budget says how
        // large, and connections held apart from the pools count in it.
        let budget = budget::Budget::of(settings, components).with_context(|| {
            let names: Vec<String> = components.iter().map(ToString::to_string).collect();
            format!("run {} in one process", names.join(", "))
        })?;
        tracing::debug!(%budget, "database connections");
        let url = settings.database.url.expose_secret();
        if migrate {
            let options: PgConnectOptions = url.parse().context("parse database.url")?;
            deedlog_eventstore::ensure_database(&options)
                .await
                .with_context(|| settings.at_database("prepare the database"))?;
            deedlog_eventstore::migrate(&options)
                .await
                .context("migrate the event log")?;
            deedlog_projector::migrate::migrate(&options)
                .await
                .context("migrate the read models")?;
        }
        let connect = connect_options(settings)?;
        let sized = |max_connections| ConnectOptions {
            max_connections,
            ..connect.clone()
        };
        let upcasters = Arc::new(Upcasters::new());
        let executor = if budget.app > 0 {
            let store = EventStore::connect(&sized(budget.app), upcasters.clone())
                .await
                .with_context(|| settings.at_database("connect to the event log"))?;
            Some(Executor::new(
                store,
                settings.services.conflict_retries,
                settings.services.state_cache_records,
            ))
        } else {
            None
        };
        let reader = if budget.reader > 0 {
            Some(
                LogReader::connect(&sized(budget.reader), upcasters.clone())
                    .await
                    .with_context(|| {
                        format!(
                            "connect to the event log at {} as its reader",
                            settings.redacted_database_url()
                        )
                    })?,
            )
        } else {
            None
        };
        let owner = if budget.owner > 0 {
            Some(projector::read_model_pool(settings, &sized(budget.owner)).await?)
        } else {
            None
        };
        let audience = Audience {
            issuer: settings.auth.issuer.clone(),
            audience: settings.auth.audience.clone(),
        };

        let projector = if components.contains(&Component::Projector) {
            let pool = owner
                .clone()
                .context("the projector has a read-model pool")?;
            Some(projector::ProjectorPart::build(settings, pool, reader.clone()).await?)
        } else {
            None
        };
        let relay = if components.contains(&Component::Relay) {
            let reader = reader.clone().context("the relay has a log reader")?;
            Some(projector::relay(settings, reader).await?)
        } else {
            None
        };
        let mut servers = Vec::new();
        for component in components {
            let Some(addr) = component.listen(settings) else {
                continue;
            };
            let server = BoundServer::bind(addr)
                .await
                .with_context(|| format!("bind {component} to {addr}"))?;
            servers.push((*component, server));
        }
        let wants_gateway = components.contains(&Component::Gateway);
        if servers.is_empty() && !wants_gateway {
            // The projector alone needs no keys and no tenancy.
            return Ok(Self {
                bound: Vec::new(),
                projector,
                relay,
                gateway: None,
                service_metrics: None,
            });
        }
        let service_metrics = if servers.is_empty() {
            None
        } else {
            metrics::bind(&settings.services.metrics_listen, "command services").await?
        };
        let tenancy_here = servers
            .iter()
            .find(|(c, _)| *c == Component::Tenancy)
            .map(|(_, s)| format!("http://{}", s.local_addr));

        let signing = if tenancy_here.is_some() {
            Some(keys::signing_key(settings)?)
        } else {
            None
        };
        let mut public_keys = keys::configured_public_keys(settings);
        if let Some(pair) = &signing {
            public_keys.push((pair.kid.clone(), pair.public_pem()?));
        } else if public_keys.is_empty() {
            public_keys = keys::fetch_public_keys(&settings.services.tenancy_url).await?;
        }
        let verifier = TokenVerifier::new(
            public_keys
                .iter()
                .map(|(kid, pem)| (kid.as_str(), pem.as_str())),
            &audience,
        )?;
        let auth = Authenticator::new(verifier.clone());
        let tenancy_url = tenancy_here.unwrap_or_else(|| settings.services.tenancy_url.clone());
        let directory = Arc::new(Directory::connect_lazy(
            &tenancy_url,
            settings.services.tenant_cache_ttl(),
        )?);

        let mut bound = Vec::new();
        for (component, server) in servers {
            // Only command services listen here, and they made the budget give appends a share.
            let executor = executor
                .as_ref()
                .context("command services have an executor")?;
            let (service_name, routes) = match component {
                Component::Tenancy => {
                    let reader = reader.clone().context("tenancy has a log reader")?;
                    let pair = signing.as_ref().context("tenancy has a signing key")?;
                    let api = deedlog_tenancy::TenancyApi::new(
                        executor.clone(),
                        reader,
                        auth.clone(),
                        pair,
                        audience.clone(),
                        public_keys.clone(),
                        deedlog_tenancy::Lifetimes {
                            access: settings.auth.access_ttl(),
                            refresh: settings.auth.refresh_ttl(),
                            invitation: settings.auth.invitation_ttl(),
                        },
                        &deedlog_tenancy::LoginLimits {
                            failures: settings.services.login_failures_per_address,
                            window: settings.services.login_failure_window(),
                            trusted_proxies: settings.services.trusted_proxies.clone(),
                        },
                    )?;
                    routes_of(api.into_server())
                }
                Component::Properties => routes_of(
                    deedlog_properties::PropertiesApi::new(
                        executor.clone(),
                        auth.clone(),
                        directory.clone(),
                    )
                    .into_server(),
                ),
                Component::Deals => routes_of(
                    deedlog_deals::DealsApi::new(executor.clone(), auth.clone(), directory.clone())
                        .into_server(),
                ),
                Component::Communications => routes_of(
                    deedlog_communications::CommunicationsApi::new(
                        executor.clone(),
                        auth.clone(),
                        directory.clone(),
                    )
                    .into_server(),
                ),
                Component::Projector | Component::Gateway | Component::Relay => continue,
            };
            bound.push(Bound {
                component,
                server,
                service_name,
                routes,
            });
        }
        let gateway = if wants_gateway {
            let mut settings = settings.clone();
            // Services running here are reached where they were bound (port 0 in tests).
            let local = |c: Component| {
                bound
                    .iter()
                    .find(|b| b.component == c)
                    .map(|b| format!("http://{}", b.server.local_addr))
            };
            let g = &mut settings.gateway;
            if let Some(url) = local(Component::Properties) {
                g.properties_url = url;
            }
            if let Some(url) = local(Component::Deals) {
                g.deals_url = url;
            }
            if let Some(url) = local(Component::Communications) {
                g.communications_url = url;
            }
            let pool = owner.context("the gateway has a read-model pool")?;
            Some(deedlog_gateway::Gateway::build(&settings, verifier, &tenancy_url, pool).await?)
        } else {
            None
        };
        Ok(Self {
            bound,
            projector,
            relay,
            gateway,
            service_metrics,
        })
    }

    /// The projector's per-projection counters, if it runs here.
    pub fn projector_stats(
        &self,
    ) -> Option<&std::collections::BTreeMap<&'static str, Arc<deedlog_projector::Stats>>> {
        self.projector.as_ref().map(|p| p.stats())
    }

    /// Where the projector serves `/metrics`, if it runs here with them.
    pub fn projector_metrics_addr(&self) -> Option<SocketAddr> {
        self.projector.as_ref().and_then(|p| p.metrics_addr())
    }

    /// Where the command services serve `/metrics`, if any runs here with them.
    pub fn service_metrics_addr(&self) -> Option<SocketAddr> {
        self.service_metrics
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The relay's counters, if it runs here.
    pub fn relay_stats(&self) -> Option<Arc<deedlog_kafka::RelayStats>> {
        self.relay.as_ref().map(|(r, _)| r.stats())
    }

    /// Where each component listens.
    pub fn addresses(&self) -> Vec<(Component, SocketAddr)> {
        self.bound
            .iter()
            .map(|b| (b.component, b.server.local_addr))
            .chain(
                self.gateway
                    .as_ref()
                    .map(|g| (Component::Gateway, g.local_addr())),
            )
            .collect()
    }

    /// The address of `component`, if it runs here.
    pub fn address(&self, component: Component) -> Option<SocketAddr> {
        self.addresses()
            .into_iter()
            .find(|(c, _)| *c == component)
            .map(|(_, a)| a)
    }

    /// Serves every component until `shutdown` is cancelled and in-flight requests have drained.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(part) = self.projector {
            let shutdown = shutdown.clone();
            tasks.spawn(async move { part.run_until_stopped(shutdown).await });
        }
        if let Some((relay, metrics)) = self.relay {
            if let Some(listener) = metrics {
                let (stats, shutdown) = (relay.stats(), shutdown.clone());
                tasks.spawn(projector::serve_relay_metrics(listener, stats, shutdown));
            }
            let shutdown = shutdown.clone();
            tasks.spawn(async move {
                relay.run_until_stopped(shutdown).await;
                Ok(())
            });
        }
        if let Some(listener) = self.service_metrics {
            let render: metrics::Render =
                Arc::new(|| Box::pin(async { deedlog_service::metrics::render() }));
            tasks.spawn(metrics::serve(listener, render, shutdown.clone()));
        }
        if let Some(gateway) = self.gateway {
            let shutdown = shutdown.clone();
            tasks.spawn(async move { gateway.run_until_stopped(shutdown).await });
        }
        for b in self.bound {
            let shutdown = shutdown.clone();
            tasks.spawn(async move {
                b.server
                    .serve(b.service_name, b.routes, shutdown)
                    .await
                    .with_context(|| format!("serve {}", b.component))
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.context("a server task panicked")??;
        }
        Ok(())
    }
}

/// How to reach the log, as the settings say.
pub fn connect_options(settings: &Settings) -> anyhow::Result<ConnectOptions> {
    let mut connect = ConnectOptions::from_url(settings.database.url.expose_secret())?;
    connect.max_connections = settings.database.max_connections;
    connect.acquire_timeout = settings.database.acquire_timeout();
    connect.app_role = settings.database.app_role.clone();
    connect.reader_role = settings.database.reader_role.clone();
    Ok(connect)
}

fn routes_of<S>(service: S) -> (&'static str, Routes)
where
    S: tower_service::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    (S::NAME, Routes::new(service))
}
