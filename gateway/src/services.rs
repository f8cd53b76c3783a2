//! The command services as the gateway calls them: one lazily connected
//! channel each; every call carries the caller's own token (the services
//! check it again) and the request's trace context.

use crate::viewer::Viewer;
use deedlog_proto::communications::v1::communications_service_client::CommunicationsServiceClient;
use deedlog_proto::deals::v1::deals_service_client::DealsServiceClient;
use deedlog_proto::properties::v1::properties_service_client::PropertiesServiceClient;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use std::time::Duration;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

/// Clients of the four command services.
#[derive(Debug, Clone)]
pub struct Services {
    pub tenancy: TenancyServiceClient<Channel>,
    pub properties: PropertiesServiceClient<Channel>,
    pub deals: DealsServiceClient<Channel>,
    pub communications: CommunicationsServiceClient<Channel>,
}

impl Services {
    /// Clients that connect on first use (the services may start after the gateway).
    pub fn connect_lazy(
        tenancy: &str,
        properties: &str,
        deals: &str,
        communications: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let channel = |url: &str| -> anyhow::Result<Channel> {
            Ok(Endpoint::from_shared(url.to_owned())?
                .connect_timeout(Duration::from_secs(2))
                .timeout(timeout)
                .tcp_nodelay(true)
                .connect_lazy())
        };
        Ok(Self {
            tenancy: TenancyServiceClient::new(channel(tenancy)?),
            properties: PropertiesServiceClient::new(channel(properties)?),
            deals: DealsServiceClient::new(channel(deals)?),
            communications: CommunicationsServiceClient::new(channel(communications)?),
        })
    }
}

/// A request on behalf of `viewer` (or of nobody, for login).
pub fn request<T>(
    viewer: Option<&Viewer>,
    trace: Option<&TraceParent>,
    body: T,
) -> tonic::Request<T> {
    let mut request = tonic::Request::new(body);
    if let Some(viewer) = viewer {
        if let Ok(value) = MetadataValue::try_from(format!("Bearer {}", viewer.token)) {
            request.metadata_mut().insert("authorization", value);
        }
    }
    if let Some(TraceParent(tp)) = trace {
        if let Ok(value) = MetadataValue::try_from(tp.as_str()) {
            request.metadata_mut().insert("traceparent", value);
        }
    }
    request
}

/// The W3C `traceparent` of the HTTP request, passed on to the services so
/// the events they append join the caller's trace.
#[derive(Debug, Clone)]
pub struct TraceParent(pub String);

/// The address of the HTTP client (the browser) a request came from: the
/// gateway names it to tenancy when it calls `Login` for that client, so
/// that failed logins are throttled per client, not per gateway.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);
