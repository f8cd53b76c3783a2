//! The composition root. [`Cluster::build`] prepares the database, loads or
//! generates keys and binds a listener per component (port 0 allowed; the
//! real addresses are reported); [`Cluster::run_until_stopped`] serves them
//! until the shutdown token fires. `deedlog up` builds every component in
//! one process, `deedlog serve <component>` one of them, and the end-to-end
//! tests the same way. Each role is built in its own module of [`role`].

pub mod budget;
mod component;
pub mod keys;
pub mod metrics;
pub mod pools;
pub mod privacy;
mod role;
pub mod sealing;

pub use component::Component;
pub use pools::connect_options;

use anyhow::Context;
use deedlog_runtime::auth::Audience;
use deedlog_runtime::settings::Settings;
use keys::Keys;
use pools::Pools;
use role::projector::ProjectorPart;
use role::relay::RelayPart;
use role::sealer::SealerPart;
use role::Bound;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Every requested component, bound.
pub struct Cluster {
    bound: Vec<Bound>,
    projector: Option<ProjectorPart>,
    relay: Option<RelayPart>,
    sealer: Option<SealerPart>,
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
        if migrate {
            pools::migrate(settings).await?;
        }
        let pools = Pools::connect(settings, &budget).await?;
        let audience = Audience {
            issuer: settings.auth.issuer.clone(),
            audience: settings.auth.audience.clone(),
        };
        let projector = if components.contains(&Component::Projector) {
            let pool = pools
                .owner
                .clone()
                .context("the projector has a read-model pool")?;
            Some(ProjectorPart::build(settings, pool, pools.reader.clone()).await?)
        } else {
            None
        };
        let relay = if components.contains(&Component::Relay) {
            // Kafka carries personal data sealed, as the log stores it.
            let reader = pools
                .reader
                .as_ref()
                .context("the relay has a log reader")?
                .as_stored();
            Some(RelayPart::build(settings, reader).await?)
        } else {
            None
        };
        let sealer = if components.contains(&Component::Sealer) {
            let reader = pools
                .reader
                .clone()
                .context("the sealer has a log reader")?;
            Some(SealerPart::build(settings, reader).await?)
        } else {
            None
        };
        let servers = role::bind(settings, components).await?;
        let wants_gateway = components.contains(&Component::Gateway);
        if servers.is_empty() && !wants_gateway {
            // The projector alone needs no keys and no tenancy.
            return Ok(Self {
                bound: Vec::new(),
                projector,
                relay,
                sealer,
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
        let keys = Keys::load(settings, &audience, tenancy_here.is_some()).await?;
        let tenancy_url = tenancy_here.unwrap_or_else(|| settings.services.tenancy_url.clone());
        let bound = role::services(settings, servers, &pools, &keys, &audience, &tenancy_url)?;
        let gateway = if wants_gateway {
            let pool = pools.owner.context("the gateway has a read-model pool")?;
            let verifier = keys.verifier;
            Some(role::gateway::build(settings, &bound, verifier, &tenancy_url, pool).await?)
        } else {
            None
        };
        Ok(Self {
            bound,
            projector,
            relay,
            sealer,
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
        self.relay.as_ref().map(RelayPart::stats)
    }

    /// The sealer's counters, if it runs here.
    pub fn seal_stats(&self) -> Option<Arc<deedlog_sealer::SealStats>> {
        self.sealer.as_ref().map(SealerPart::stats)
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
        if let Some(relay) = self.relay {
            relay.spawn(&mut tasks, &shutdown);
        }
        if let Some(sealer) = self.sealer {
            sealer.spawn(&mut tasks, &shutdown);
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
