//! The communications command service: authenticates the caller, checks
//! their role and their tenant (suspension, module), looks up the tenant's
//! sending policy, then load → decide → append on the contact's stream
//! through [`deedlog_service::Executor`].
//!
//! A message that compliance refuses is still recorded (as
//! `MessageRefused`); the caller is answered FAILED_PRECONDITION with every
//! reason in words.

mod convert;
mod service;

use deedlog_communications_domain::{Action, Command, Communications, Event, SendPolicy, State};
use deedlog_kernel::{Module, Role, StreamId};
use deedlog_proto::common::v1::{CommandOptions, CommandReply};
use deedlog_proto::communications::v1::communications_service_server::CommunicationsServiceServer;
use deedlog_service::request::required_uuid;
use deedlog_service::{
    require_role, Authenticated, Authenticator, CommandEnvelope, Directory, Error, Executed,
    Executor, Target,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The stream type of a contact's events.
pub const STREAM_TYPE: &str = "contact";

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CommunicationsApi {
    executor: Executor,
    auth: Authenticator,
    directory: Arc<Directory>,
}

/// A caller admitted to the communications context, with the tenant's
/// sending policy as of now.
struct Admitted {
    auth: Authenticated,
    policy: SendPolicy,
}

/// A command on an existing contact, admitted and read.
struct Opened {
    envelope: CommandEnvelope,
    contact: uuid::Uuid,
    policy: SendPolicy,
}

impl CommunicationsApi {
    pub fn new(executor: Executor, auth: Authenticator, directory: Arc<Directory>) -> Self {
        Self {
            executor,
            auth,
            directory,
        }
    }

    pub fn into_server(self) -> CommunicationsServiceServer<Self> {
        CommunicationsServiceServer::new(self)
    }

    /// Authenticates, checks the role may write and the tenant accepts
    /// commands; returns the caller and the tenant's sending policy.
    async fn admit<T>(&self, request: &Request<T>) -> Result<Admitted, Error> {
        let auth = self.auth.caller(request)?;
        require_role(
            &auth,
            Role::may_write_records,
            "change contacts or message them",
        )?;
        let tenant = self.directory.gate(&auth, Module::Communications).await?;
        Ok(Admitted {
            auth,
            policy: convert::send_policy(&tenant),
        })
    }

    /// Decides one command on one contact and appends its events.
    async fn execute(
        &self,
        envelope: &CommandEnvelope,
        contact: uuid::Uuid,
        action: impl Fn(&State) -> Result<Action, Error>,
    ) -> Result<Executed<Event>, Error> {
        let target = Target {
            stream_id: StreamId::from_uuid(contact),
            stream_type: STREAM_TYPE,
        };
        let at = envelope.metadata.occurred_at;
        self.executor
            .execute::<Communications>(envelope, target, |state| {
                Ok(Command {
                    at,
                    action: action(state)?,
                })
            })
            .await
    }

    /// Runs one command on one contact and answers with its reply.
    async fn run(
        &self,
        envelope: &CommandEnvelope,
        contact: uuid::Uuid,
        action: impl Fn(&State) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let executed = self.execute(envelope, contact, action).await?;
        Ok(Response::new(executed.reply()))
    }

    /// Admits the caller and reads the command options and the contact id.
    async fn open<T>(
        &self,
        request: &Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        contact_id: impl Fn(&T) -> &str,
    ) -> Result<Opened, Error> {
        let admitted = self.admit(request).await?;
        let body = request.get_ref();
        Ok(Opened {
            envelope: admitted.auth.command(options(body))?,
            contact: required_uuid("contact_id", contact_id(body))?,
            policy: admitted.policy,
        })
    }

    /// The common shape: admit, parse the contact id, run a fixed action.
    async fn change<T>(
        &self,
        request: Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        contact_id: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let opened = self.open(&request, options, contact_id).await?;
        let action = action(request.get_ref())?;
        self.run(
            &opened.envelope,
            opened.contact,
            move |_| Ok(action.clone()),
        )
        .await
    }
}

/// The refusal among `executed`'s events, as the status that answers it.
fn refused(executed: &Executed<Event>) -> Option<Status> {
    executed.events.iter().find_map(|event| match event {
        Event::MessageRefused { reasons, .. } => Some(Status::failed_precondition(
            convert::refusal_message(reasons),
        )),
        _ => None,
    })
}
