//! The deals command service: authenticates the caller, checks their role
//! and their tenant (suspension, module), asks tenancy about assigned
//! agents, then load → decide → append through [`deedlog_service::Executor`].

pub mod convert;
mod service;

use deedlog_deals_domain::{Action, Deals};
use deedlog_kernel::{Module, Role};
use deedlog_proto::deals::v1::deals_service_server::DealsServiceServer;
use deedlog_service::{Authenticated, Authenticator, Context, Directory, Error, Executor};
use std::sync::Arc;
use tonic::Request;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct DealsApi {
    ctx: Context<Deals, Action>,
}

impl DealsApi {
    pub fn new(executor: Executor, auth: Authenticator, directory: Arc<Directory>) -> Self {
        Self {
            ctx: Context::new(
                executor,
                auth,
                directory,
                Module::Deals,
                "deal_id",
                "change deals",
            ),
        }
    }

    pub fn into_server(self) -> DealsServiceServer<Self> {
        DealsServiceServer::new(self)
    }

    /// Authenticates, checks the role may `what` and the tenant accepts commands.
    async fn admit<T: prost::Message>(
        &self,
        request: &Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
    ) -> Result<Authenticated, Error> {
        Ok(self.ctx.admit_caller(request, allowed, what).await?.0)
    }
}
