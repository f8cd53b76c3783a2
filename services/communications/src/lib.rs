//! The communications command service: authenticates the caller, checks
//! their role and their tenant (suspension, module), looks up the tenant's
//! sending policy, then load → decide → append on the contact's stream
//! through [`deedlog_service::Executor`].
//!
//! A message that compliance refuses is still recorded (as
//! `MessageRefused`); the caller is answered FAILED_PRECONDITION with every
//! reason in words, and an `ErrorInfo` (`MESSAGE_REFUSED`) with the reason
//! codes, the message and conversation ids and the refusal's log position.

pub mod convert;
mod service;

use deedlog_communications_domain::{Action, Communications, Event, SendPolicy};
use deedlog_kernel::{Module, Reason};
use deedlog_proto::communications::v1::communications_service_server::CommunicationsServiceServer;
use deedlog_service::{
    Authenticator, CommandEnvelope, Context, Directory, Error, Executed, Executor, RecordRequest,
};
use std::sync::Arc;
use tonic::Request;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CommunicationsApi {
    ctx: Context<Communications, Action>,
}

/// A command on an existing contact, admitted, with the tenant's sending policy as of now.
struct Opened {
    envelope: CommandEnvelope,
    contact: uuid::Uuid,
    policy: SendPolicy,
}

impl CommunicationsApi {
    pub fn new(executor: Executor, auth: Authenticator, directory: Arc<Directory>) -> Self {
        Self {
            ctx: Context::new(
                executor,
                auth,
                directory,
                Module::Communications,
                "contact_id",
                "change contacts or message them",
            ),
        }
    }

    pub fn into_server(self) -> CommunicationsServiceServer<Self> {
        CommunicationsServiceServer::new(self)
    }

    /// Admits the caller and reads the command options and the contact id.
    async fn open<T: RecordRequest>(&self, request: &Request<T>) -> Result<Opened, Error> {
        let admitted = self.ctx.admit(request).await?;
        Ok(Opened {
            envelope: admitted.envelope,
            contact: admitted.record,
            policy: convert::send_policy(&admitted.tenant),
        })
    }
}

/// The refusal among `executed`'s events, as the error that answers it:
/// the caller learns where it is on record as well as why.
fn refused(executed: &Executed<Event>) -> Option<Error> {
    executed.events.iter().find_map(|event| match event {
        Event::MessageRefused {
            message_id,
            conversation_id,
            reasons,
            ..
        } => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
            let reason = Reason::new("MESSAGE_REFUSED")
                .with_list("reasons", &codes)
                .with("messageId", message_id)
                .with("conversationId", conversation_id)
                .with("recordId", executed.stream_id)
                .with("version", executed.version)
                .with("position", executed.position)
                .with("duplicate", executed.duplicate);
            Some(Error::refused(reason, convert::refusal_message(reasons)))
        }
        _ => None,
    })
}
