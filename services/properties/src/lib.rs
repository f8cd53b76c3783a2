//! The properties command service: authenticates the caller, checks their
//! role and their tenant (suspension, module), asks tenancy about assigned
//! agents, then load → decide → append through [`deedlog_service::Executor`].

pub mod convert;
mod service;

use deedlog_kernel::Module;
use deedlog_properties_domain::{Action, Command, Properties};
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
            ctx: Context {
                executor,
                auth,
                directory,
                module: Module::Properties,
                id_field: "property_id",
                what: "change properties",
                command: |at, action| Command { at, action },
            },
        }
    }

    pub fn into_server(self) -> PropertiesServiceServer<Self> {
        PropertiesServiceServer::new(self)
    }
}
