//! One module per role a process can play, each with a short `build`: the
//! four command services, the gateway, the projector and the relay. The
//! crate root decides which roles run and hands them what they share.

/// The `build` of a command service that needs only the executor, the
/// authenticator and the tenant directory (properties, deals, communications).
macro_rules! directory_service {
    ($api:path) => {
        pub fn build(shared: &super::Shared<'_>) -> (&'static str, tonic::service::Routes) {
            super::routes_of(
                <$api>::new(
                    shared.executor.clone(),
                    shared.auth.clone(),
                    shared.directory.clone(),
                )
                .into_server(),
            )
        }
    };
}
use directory_service;

pub mod communications;
pub mod deals;
pub mod gateway;
pub mod projector;
pub mod properties;
pub mod relay;
pub mod sealer;
pub mod tenancy;

use crate::keys::Keys;
use crate::pools::Pools;
use crate::Component;
use anyhow::Context;
use deedlog_eventstore::LogReader;
use deedlog_runtime::auth::Audience;
use deedlog_runtime::settings::Settings;
use deedlog_service::{Authenticator, BoundServer, Directory, Executor};
use std::sync::Arc;
use tonic::server::NamedService;
use tonic::service::Routes;

/// A command service bound to its address, ready to serve.
pub struct Bound {
    pub component: Component,
    pub server: BoundServer,
    pub service_name: &'static str,
    pub routes: Routes,
}

/// What the command services of one process share.
pub struct Shared<'a> {
    pub settings: &'a Settings,
    pub executor: Executor,
    pub reader: Option<LogReader>,
    pub auth: Authenticator,
    pub directory: Arc<Directory>,
    pub keys: &'a Keys,
    pub audience: &'a Audience,
}

/// Binds a listener for each command service among `components`.
pub async fn bind(
    settings: &Settings,
    components: &[Component],
) -> anyhow::Result<Vec<(Component, BoundServer)>> {
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
    Ok(servers)
}

/// Builds the command service behind each bound listener; they ask tenancy
/// at `tenancy_url` what their decisions need.
pub fn services(
    settings: &Settings,
    servers: Vec<(Component, BoundServer)>,
    pools: &Pools,
    keys: &Keys,
    audience: &Audience,
    tenancy_url: &str,
) -> anyhow::Result<Vec<Bound>> {
    let auth = Authenticator::new(keys.verifier.clone());
    let directory = Arc::new(Directory::connect_lazy(
        tenancy_url,
        settings.services.tenant_cache_ttl(),
    )?);
    let mut bound = Vec::new();
    for (component, server) in servers {
        // Only command services listen here, and they made the budget give appends a share.
        let executor = pools
            .executor
            .clone()
            .context("command services have an executor")?;
        let shared = Shared {
            settings,
            executor,
            reader: pools.reader.clone(),
            auth: auth.clone(),
            directory: directory.clone(),
            keys,
            audience,
        };
        let (service_name, routes) = match component {
            Component::Tenancy => tenancy::build(&shared)?,
            Component::Properties => properties::build(&shared),
            Component::Deals => deals::build(&shared),
            Component::Communications => communications::build(&shared),
            Component::Projector | Component::Gateway | Component::Relay | Component::Sealer => {
                continue
            }
        };
        bound.push(Bound {
            component,
            server,
            service_name,
            routes,
        });
    }
    Ok(bound)
}

/// The name and routes of a tonic service.
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
