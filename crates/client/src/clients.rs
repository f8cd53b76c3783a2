//! The four command services' clients, connected together.

use deedlog_proto::communications::v1::communications_service_client::CommunicationsServiceClient;
use deedlog_proto::deals::v1::deals_service_client::DealsServiceClient;
use deedlog_proto::properties::v1::properties_service_client::PropertiesServiceClient;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use std::net::SocketAddr;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// How long a connection attempt may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the four command services listen, as URLs (`http://host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub tenancy: String,
    pub properties: String,
    pub deals: String,
    pub communications: String,
}

impl Endpoints {
    /// The services listening at these addresses (plain HTTP/2).
    pub fn at(
        tenancy: SocketAddr,
        properties: SocketAddr,
        deals: SocketAddr,
        communications: SocketAddr,
    ) -> Self {
        let url = |addr: SocketAddr| format!("http://{addr}");
        Self {
            tenancy: url(tenancy),
            properties: url(properties),
            deals: url(deals),
            communications: url(communications),
        }
    }
}

/// A failure to set up a service's channel.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{service} URL {url:?} is not a valid endpoint")]
    Url {
        service: &'static str,
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("connect to {service}")]
    Connect {
        service: &'static str,
        #[source]
        source: tonic::transport::Error,
    },
}

/// A client per command service (each a cheap handle on its channel).
#[derive(Debug, Clone)]
pub struct Clients {
    pub tenancy: TenancyServiceClient<Channel>,
    pub properties: PropertiesServiceClient<Channel>,
    pub deals: DealsServiceClient<Channel>,
    pub communications: CommunicationsServiceClient<Channel>,
}

impl Clients {
    /// Connects to the four services now, naming the one that cannot be reached.
    pub async fn connect(at: &Endpoints) -> Result<Self, Error> {
        Ok(Self::over(
            connect("tenancy", &at.tenancy).await?,
            connect("properties", &at.properties).await?,
            connect("deals", &at.deals).await?,
            connect("communications", &at.communications).await?,
        ))
    }

    /// Clients that connect on first use (the services may start after
    /// their caller); `timeout`, when given, bounds every call.
    pub fn connect_lazy(at: &Endpoints, timeout: Option<Duration>) -> Result<Self, Error> {
        let lazy = |service, url: &str| Ok(endpoint(service, url, timeout)?.connect_lazy());
        Ok(Self::over(
            lazy("tenancy", &at.tenancy)?,
            lazy("properties", &at.properties)?,
            lazy("deals", &at.deals)?,
            lazy("communications", &at.communications)?,
        ))
    }

    fn over(
        tenancy: Channel,
        properties: Channel,
        deals: Channel,
        communications: Channel,
    ) -> Self {
        Self {
            tenancy: TenancyServiceClient::new(tenancy),
            properties: PropertiesServiceClient::new(properties),
            deals: DealsServiceClient::new(deals),
            communications: CommunicationsServiceClient::new(communications),
        }
    }
}

/// A channel to `service` at `url`, connected now.
async fn connect(service: &'static str, url: &str) -> Result<Channel, Error> {
    endpoint(service, url, None)?
        .connect()
        .await
        .map_err(|source| Error::Connect { service, source })
}

fn endpoint(
    service: &'static str,
    url: &str,
    timeout: Option<Duration>,
) -> Result<Endpoint, Error> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|source| Error::Url {
        service,
        url: url.to_owned(),
        source,
    })?;
    let endpoint = endpoint.connect_timeout(CONNECT_TIMEOUT).tcp_nodelay(true);
    Ok(match timeout {
        Some(timeout) => endpoint.timeout(timeout),
        None => endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(url: &str) -> Endpoints {
        Endpoints {
            tenancy: url.to_owned(),
            properties: url.to_owned(),
            deals: url.to_owned(),
            communications: url.to_owned(),
        }
    }

    #[tokio::test]
    async fn lazy_clients_need_no_listener_until_the_first_call() {
        let clients = Clients::connect_lazy(&endpoints("http://127.0.0.1:9"), None);
        assert!(clients.is_ok());
    }

    #[tokio::test]
    async fn a_bad_url_names_its_service() {
        let error = Clients::connect_lazy(&endpoints("not a url"), None).expect_err("bad url");
        assert!(error.to_string().starts_with("tenancy URL"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_service_is_named() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let url = format!("http://{}", free.local_addr().expect("bound"));
        drop(free);
        let error = Clients::connect(&endpoints(&url))
            .await
            .expect_err("nothing listens");
        assert_eq!(error.to_string(), "connect to tenancy");
    }
}
