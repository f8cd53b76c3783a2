//! What each context's gRPC service shares: admit a caller (token, role,
//! tenant gate), name the record, build the timed domain command, run it and
//! answer with the command reply. A service is this plus its conversions.

use crate::directory::{Directory, TenantInfo};
use crate::error::Error;
use crate::executor::{Executed, Executor, Target};
use crate::paths::Paths;
use crate::record_request::RecordRequest;
use crate::request::{required_uuid, Authenticated, Authenticator, CommandEnvelope};
use crate::require_role;
use chrono::{DateTime, Utc};
use deedlog_kernel::{Decider, DomainEvent, Module, Refusal, Role, StreamId, Timed, UserId};
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// What a gRPC method answers.
pub type Answer<T> = Result<Response<T>, Status>;

/// One context's command plumbing, for decider `D` whose commands carry an action `A`.
pub struct Context<D: Decider, A> {
    pub executor: Executor,
    pub auth: Authenticator,
    pub directory: Arc<Directory>,
    /// The module that must be on for this context's commands.
    pub module: Module,
    /// The request field that names a record, e.g. `deal_id`.
    pub id_field: &'static str,
    /// What writers do here, for refusals, e.g. "change deals".
    pub what: &'static str,
    /// Makes the domain command from the instant it was accepted and the action.
    pub command: fn(DateTime<Utc>, A) -> D::Command,
}

impl<D: Decider<Command = Timed<A>>, A> Context<D, A> {
    /// The plumbing of a context whose commands are its actions with the
    /// instant they were accepted.
    pub fn new(
        executor: Executor,
        auth: Authenticator,
        directory: Arc<Directory>,
        module: Module,
        id_field: &'static str,
        what: &'static str,
    ) -> Self {
        Self {
            executor,
            auth,
            directory,
            module,
            id_field,
            what,
            command: |at, action| Timed { at, action },
        }
    }
}

impl<D: Decider, A> Clone for Context<D, A> {
    fn clone(&self) -> Self {
        Self {
            executor: self.executor.clone(),
            auth: self.auth.clone(),
            directory: self.directory.clone(),
            module: self.module,
            id_field: self.id_field,
            what: self.what,
            command: self.command,
        }
    }
}

impl<D: Decider, A> std::fmt::Debug for Context<D, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("module", &self.module)
            .field("stream_type", &D::STREAM_TYPE)
            .finish_non_exhaustive()
    }
}

/// A command request admitted: who asks, for which record, with what metadata.
#[derive(Debug)]
pub struct Admitted {
    pub auth: Authenticated,
    pub tenant: TenantInfo,
    pub envelope: CommandEnvelope,
    pub record: Uuid,
}

impl<D, A> Context<D, A>
where
    D: Decider,
    D::State: Clone + Send + Sync + 'static,
    D::Event: Serialize + DeserializeOwned + DomainEvent,
    D::Error: Refusal,
    A: Clone,
{
    /// Authenticates, checks the caller is an active user of the tenant
    /// now and takes their current role (see [`Directory::admit`]), checks
    /// that role is `allowed` to do `what`, and that the tenant is active
    /// with this context's module on.
    pub async fn admit_caller<T>(
        &self,
        request: &Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
    ) -> Result<(Authenticated, TenantInfo), Error> {
        let (auth, tenant) = self.directory.admit(self.auth.caller(request)?).await?;
        require_role(&auth, allowed, what)?;
        tenant.gate(self.module)?;
        Ok((auth, tenant))
    }

    /// Admits a caller whose role may write records in this context.
    pub async fn admit_writer<T>(&self, request: &Request<T>) -> Result<Authenticated, Error> {
        let (auth, _) = self
            .admit_caller(request, Role::may_write_records, self.what)
            .await?;
        Ok(auth)
    }

    /// Admits a writer's command on the existing record the request names.
    pub async fn admit<T: RecordRequest>(&self, request: &Request<T>) -> Result<Admitted, Error> {
        self.admit_as(request, Role::may_write_records, self.what)
            .await
    }

    /// Admits a command on an existing record for the roles `allowed` to do `what`.
    pub async fn admit_as<T: RecordRequest>(
        &self,
        request: &Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
    ) -> Result<Admitted, Error> {
        let (auth, tenant) = self.admit_caller(request, allowed, what).await?;
        let body = request.get_ref();
        let envelope = auth.command(body, body.options())?;
        let record = required_uuid(self.id_field, body.record_id())?;
        Ok(Admitted {
            auth,
            tenant,
            envelope,
            record,
        })
    }

    /// Decides the action (built from the record's state) and appends its events.
    pub async fn execute(
        &self,
        envelope: &CommandEnvelope,
        record: Uuid,
        action: impl Fn(&D::State) -> Result<A, Error>,
    ) -> Result<Executed<D::Event>, Error> {
        let target = Target {
            stream_id: StreamId::from_uuid(record),
            stream_type: D::STREAM_TYPE,
        };
        let at = envelope.metadata.occurred_at;
        let command = self.command;
        self.executor
            .execute::<D>(envelope, target, |state| Ok(command(at, action(state)?)))
            .await
    }

    /// Like [`Context::execute`], answering with the command reply.
    pub async fn run(
        &self,
        envelope: &CommandEnvelope,
        record: Uuid,
        action: impl Fn(&D::State) -> Result<A, Error>,
    ) -> Answer<CommandReply> {
        let executed = self.execute(envelope, record, action).await?;
        Ok(Response::new(executed.reply()))
    }

    /// Runs an action that does not depend on the record's state; refusals
    /// name fields as `paths` maps them to the request's.
    pub async fn run_fixed(
        &self,
        envelope: &CommandEnvelope,
        record: Uuid,
        paths: Paths,
        action: A,
    ) -> Answer<CommandReply> {
        let executed = self
            .execute(envelope, record, move |_| Ok(action.clone()))
            .await
            .map_err(|e| paths.rename(e))?;
        Ok(Response::new(executed.reply()))
    }

    /// The common shape: a writer's action, built from the request, on the
    /// record the request names.
    pub async fn change<T: RecordRequest>(
        &self,
        request: Request<T>,
        action: impl FnOnce(&T) -> Result<A, Error>,
    ) -> Answer<CommandReply> {
        self.change_named(request, Paths::AS_NAMED, action).await
    }

    /// Like [`Context::change`], where refusals name fields as `paths` maps
    /// them to the request's.
    pub async fn change_named<T: RecordRequest>(
        &self,
        request: Request<T>,
        paths: Paths,
        action: impl FnOnce(&T) -> Result<A, Error>,
    ) -> Answer<CommandReply> {
        let admitted = self.admit(&request).await?;
        let action = action(request.get_ref()).map_err(|e| paths.rename(e))?;
        self.run_fixed(&admitted.envelope, admitted.record, paths, action)
            .await
    }

    /// Hands the record the request names to the agent in `agent_id`, who
    /// must be able to own records; `may_reassign` says, from the record's
    /// state, whether this caller may.
    pub async fn reassign<T: RecordRequest>(
        &self,
        request: Request<T>,
        what: &str,
        agent_id: fn(&T) -> &str,
        may_reassign: fn(&Authenticated, &D::State) -> Result<(), Error>,
        action: fn(UserId) -> A,
    ) -> Answer<CommandReply> {
        let admitted = self
            .admit_as(&request, Role::may_write_records, what)
            .await?;
        let agent = crate::convert::user("agent_id", agent_id(request.get_ref()))?;
        self.directory
            .require_owner(&admitted.auth, "agent_id", agent)
            .await?;
        self.run(&admitted.envelope, admitted.record, |state| {
            may_reassign(&admitted.auth, state)?;
            Ok(action(agent))
        })
        .await
    }

    /// The common shape for the roles `allowed` to do `what`.
    pub async fn change_as<T: RecordRequest>(
        &self,
        allowed: fn(Role) -> bool,
        what: &str,
        request: Request<T>,
        action: impl FnOnce(&T) -> Result<A, Error>,
    ) -> Answer<CommandReply> {
        let admitted = self.admit_as(&request, allowed, what).await?;
        let action = action(request.get_ref())?;
        self.run_fixed(&admitted.envelope, admitted.record, Paths::AS_NAMED, action)
            .await
    }
}

impl<D, A> Context<D, A>
where
    D: Decider,
    D::Event: DeserializeOwned,
    D::State: Serialize,
{
    /// Answers `GetAsOf` for this context's records (see [`crate::as_of`])
    /// to a caller who is an active user of the tenant now, by their
    /// current role.
    pub async fn as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        let (auth, _) = self.directory.admit(self.auth.caller(&request)?).await?;
        let state =
            crate::as_of::state_as_of::<D>(&self.executor, &auth, request.get_ref()).await?;
        Ok(Response::new(state))
    }
}
