//! The properties command service: authenticates the caller, checks their
//! role and their tenant (suspension, module), asks tenancy about assigned
//! agents, then load → decide → append through [`deedlog_service::Executor`].

pub mod convert;
mod service;

use deedlog_kernel::Module;
use deedlog_properties_domain::{Action, Properties};
use deedlog_proto::properties::v1::properties_service_server::PropertiesServiceServer;
use deedlog_service::{Authenticator, Context, Directory, Executor};
use std::sync::Arc;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct PropertiesApi {
    ctx: Context<Properties, Action>,
}

impl PropertiesApi {
    pub fn new(executor: Executor, auth: Authenticator, directory: Arc<Directory>) -> Self {
        Self {
            ctx: Context::new(
                executor,
                auth,
                directory,
                Module::Properties,
                "property_id",
                "change properties",
            ),
        }
    }

    pub fn into_server(self) -> PropertiesServiceServer<Self> {
        PropertiesServiceServer::new(self)
    }
}
