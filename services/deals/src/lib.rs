//! The deals command service: authenticates the caller, checks their role
//! and their tenant (suspension, module), asks tenancy about assigned
//! agents, then load → decide → append through [`deedlog_service::Executor`].

mod convert;
mod service;

use deedlog_deals_domain::{Action, Command, Deals, State};
use deedlog_kernel::{Module, Role, StreamId};
use deedlog_proto::common::v1::{CommandOptions, CommandReply};
use deedlog_proto::deals::v1::deals_service_server::DealsServiceServer;
use deedlog_service::request::required_uuid;
use deedlog_service::{
    require_role, Authenticated, Authenticator, CommandEnvelope, Directory, Error, Executor, Target,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The stream type of a deal's events.
pub const STREAM_TYPE: &str = "deal";

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct DealsApi {
    executor: Executor,
    auth: Authenticator,
    directory: Arc<Directory>,
}

impl DealsApi {
    pub fn new(executor: Executor, auth: Authenticator, directory: Arc<Directory>) -> Self {
        Self {
            executor,
            auth,
            directory,
        }
    }

    pub fn into_server(self) -> DealsServiceServer<Self> {
        DealsServiceServer::new(self)
    }

    /// Authenticates, checks the role may `what` and the tenant accepts commands.
    async fn admit<T>(
        &self,
        request: &Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
    ) -> Result<Authenticated, Error> {
        let auth = self.auth.caller(request)?;
        require_role(&auth, allowed, what)?;
        self.directory.gate(&auth, Module::Deals).await?;
        Ok(auth)
    }

    /// Runs one command on one deal.
    async fn run(
        &self,
        envelope: &CommandEnvelope,
        deal: uuid::Uuid,
        action: impl Fn(&State) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let target = Target {
            stream_id: StreamId::from_uuid(deal),
            stream_type: STREAM_TYPE,
        };
        let at = envelope.metadata.occurred_at;
        let executed = self
            .executor
            .execute::<Deals>(envelope, target, |state| {
                Ok(Command {
                    at,
                    action: action(state)?,
                })
            })
            .await?;
        Ok(Response::new(executed.reply()))
    }

    /// The common shape: admit a writer, parse the deal id, run a fixed action.
    async fn change<T>(
        &self,
        request: Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        deal_id: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        self.change_as(
            Role::may_write_records,
            "change deals",
            request,
            options,
            deal_id,
            action,
        )
        .await
    }

    /// The common shape for the roles `allowed` to do `what`.
    async fn change_as<T>(
        &self,
        allowed: fn(Role) -> bool,
        what: &str,
        request: Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        deal_id: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let auth = self.admit(&request, allowed, what).await?;
        let body = request.get_ref();
        let envelope = auth.command(options(body))?;
        let deal = required_uuid("deal_id", deal_id(body))?;
        let action = action(body)?;
        self.run(&envelope, deal, move |_| Ok(action.clone())).await
    }
}
