//! What each context's gRPC service shares: admit a caller (token, role,
//! tenant gate), name the record, build the timed domain command, run it and
//! answer with the command reply. A service is this plus its conversions.

use crate::directory::{Directory, TenantInfo};
use crate::error::Error;
use crate::executor::{Executed, Executor, Target};
use crate::request::{required_uuid, Authenticated, Authenticator, CommandEnvelope};
use crate::require_role;
use chrono::{DateTime, Utc};
use deedlog_kernel::{Decider, DomainEvent, Module, Refusal, Role, StreamId};
use deedlog_proto::common::v1::{AsOfRequest, CommandOptions, CommandReply, RecordState};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use uuid::Uuid;

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

    /// Admits a command on an existing record named by the request.
    pub async fn admit<T: prost::Message>(
        &self,
        request: &Request<T>,
        allowed: fn(Role) -> bool,
        what: &str,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        record: impl Fn(&T) -> &str,
    ) -> Result<Admitted, Error> {
        let (auth, tenant) = self.admit_caller(request, allowed, what).await?;
        let body = request.get_ref();
        let envelope = auth.command(body, options(body))?;
        let record = required_uuid(self.id_field, record(body))?;
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
    ) -> Result<Response<CommandReply>, Status> {
        let executed = self.execute(envelope, record, action).await?;
        Ok(Response::new(executed.reply()))
    }

    /// The common shape: a writer's fixed action on the record the request names.
    pub async fn change<T: prost::Message>(
        &self,
        request: Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        record: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<A, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        self.change_as(
            Role::may_write_records,
            self.what,
            request,
            options,
            record,
            action,
        )
        .await
    }

    /// The common shape for the roles `allowed` to do `what`.
    pub async fn change_as<T: prost::Message>(
        &self,
        allowed: fn(Role) -> bool,
        what: &str,
        request: Request<T>,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        record: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<A, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let admitted = self.admit(&request, allowed, what, options, record).await?;
        let action = action(request.get_ref())?;
        self.run(&admitted.envelope, admitted.record, move |_| {
            Ok(action.clone())
        })
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
    pub async fn as_of(
        &self,
        request: Request<AsOfRequest>,
    ) -> Result<Response<RecordState>, Status> {
        let (auth, _) = self.directory.admit(self.auth.caller(&request)?).await?;
        let state =
            crate::as_of::state_as_of::<D>(&self.executor, &auth, request.get_ref()).await?;
        Ok(Response::new(state))
    }
}
