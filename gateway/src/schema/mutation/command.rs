//! What every mutation shares: the idempotency key and concurrency options
//! going in, the record, version and log position coming out, and reading
//! the changed record once the read models have caught up with it.

use crate::error::from_command_status;
use crate::schema::communications::Contact;
use crate::schema::deals::Deal;
use crate::schema::properties::Property;
use crate::schema::reads::{scope, wait_for};
use crate::schema::{int64, log_position};
use crate::services::{request, Services, TraceParent};
use crate::viewer::{viewer, Viewer};
use async_graphql::{Context, InputObject, Object, Result};
use deedlog_proto::common::v1 as pb;
use deedlog_read_model::{Int64, Projection};
use std::future::Future;
use uuid::Uuid;

/// Options of a command.
#[derive(Debug, InputObject)]
pub struct CommandInput {
    /// Client-chosen UUID: sending the same key again returns the first
    /// outcome and changes nothing.
    pub idempotency_key: Uuid,
    /// Refuse with CONFLICT unless the record is at exactly this version
    /// (0 or more).
    #[graphql(validator(custom = "crate::schema::NonNegative(\"command.expectedVersion\")"))]
    pub expected_version: Option<Int64>,
    /// The business flow this command belongs to; defaults to the key.
    pub correlation_id: Option<Uuid>,
}

impl CommandInput {
    /// The options as the services take them; a negative expected version
    /// is BAD_USER_INPUT naming the field (the field's validator refuses it
    /// first; this keeps the conversion from ever dropping the check).
    pub fn options(&self) -> Result<Option<pb::CommandOptions>> {
        Ok(Some(pb::CommandOptions {
            command_id: self.idempotency_key.to_string(),
            expected_version: self
                .expected_version
                .map(|v| log_position("command.expectedVersion", v))
                .transpose()?,
            correlation_id: self
                .correlation_id
                .map(|c| c.to_string())
                .unwrap_or_default(),
        }))
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct CommandResult {
    pub reply: pb::CommandReply,
}

#[Object]
impl CommandResult {
    /// The record the command acted on.
    async fn record_id(&self) -> &str {
        &self.reply.record_id
    }

    /// The record's version after the command.
    async fn version(&self) -> Result<Int64> {
        int64("version", self.reply.version)
    }

    /// The log position of the command's last event (0 when it changed
    /// nothing); pass it to `atLeast` to read your own write later.
    async fn position(&self) -> Result<Int64> {
        int64("log position", self.reply.position)
    }

    /// True when this idempotency key had been used: this is the first outcome.
    async fn duplicate(&self) -> bool {
        self.reply.duplicate
    }

    /// The property as the read model has it once it has caught up with
    /// this command (waits at most `timeoutMs`).
    async fn property(&self, ctx: &Context<'_>, timeout_ms: Option<u32>) -> Result<Property> {
        let (viewer, id) = self
            .caught_up(ctx, Projection::Properties, timeout_ms)
            .await?;
        Property::read(&mut scope(ctx, viewer).await?, id).await
    }

    /// The deal once the read model has caught up with this command.
    async fn deal(&self, ctx: &Context<'_>, timeout_ms: Option<u32>) -> Result<Deal> {
        let (viewer, id) = self.caught_up(ctx, Projection::Deals, timeout_ms).await?;
        Deal::read(&mut scope(ctx, viewer).await?, id).await
    }

    /// The contact once the read model has caught up with this command.
    async fn contact(&self, ctx: &Context<'_>, timeout_ms: Option<u32>) -> Result<Contact> {
        let (viewer, id) = self
            .caught_up(ctx, Projection::Communications, timeout_ms)
            .await?;
        Contact::read(&mut scope(ctx, viewer).await?, id).await
    }
}

impl CommandResult {
    async fn caught_up<'a>(
        &self,
        ctx: &Context<'a>,
        projection: Projection,
        timeout_ms: Option<u32>,
    ) -> Result<(&'a Viewer, Uuid)> {
        let viewer = viewer(ctx)?;
        wait_for(ctx, &[projection], self.reply.position, timeout_ms).await?;
        let id = Uuid::parse_str(&self.reply.record_id)
            .map_err(|e| crate::error::internal("read a command reply", &e))?;
        Ok((viewer, id))
    }
}

/// The call of one service method, as `send` and `call` take it:
/// `rpc!(deals.open_deal)` sends the request with a clone of the clients.
macro_rules! rpc {
    ($service:ident . $method:ident) => {
        |mut s, r| async move { s.$service.$method(r).await }
    };
}
pub(crate) use rpc;

/// Sends one command on behalf of the viewer and turns the service's
/// answer into a result or a coded error.
pub async fn send<T, F, Fut>(ctx: &Context<'_>, body: T, rpc: F) -> Result<CommandResult>
where
    F: FnOnce(Services, tonic::Request<T>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<pb::CommandReply>, tonic::Status>>,
{
    let reply = call(ctx, body, rpc).await?;
    Ok(CommandResult { reply })
}

/// Sends one command on behalf of the viewer and returns the service's
/// whole answer (for commands that answer more than a `CommandReply`), or
/// a coded error.
pub async fn call<T, R, F, Fut>(ctx: &Context<'_>, body: T, rpc: F) -> Result<R>
where
    F: FnOnce(Services, tonic::Request<T>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
{
    let viewer = viewer(ctx)?;
    dispatch(ctx, Some(viewer), body, rpc).await
}

/// Sends one command that needs no access token (signing up, accepting an
/// invitation) and returns the service's answer, or a coded error.
pub async fn call_without_token<T, R, F, Fut>(ctx: &Context<'_>, body: T, rpc: F) -> Result<R>
where
    F: FnOnce(Services, tonic::Request<T>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
{
    dispatch(ctx, None, body, rpc).await
}

async fn dispatch<T, R, F, Fut>(
    ctx: &Context<'_>,
    viewer: Option<&Viewer>,
    body: T,
    rpc: F,
) -> Result<R>
where
    F: FnOnce(Services, tonic::Request<T>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
{
    let services = ctx.data::<Services>()?.clone();
    let trace = ctx.data_opt::<TraceParent>();
    match rpc(services, request(viewer, trace, body)).await {
        Ok(reply) => Ok(reply.into_inner()),
        // A bad argument is named by the mutation's own argument path.
        Err(status) => {
            let arguments = ctx.field().arguments().unwrap_or_default();
            Err(from_command_status(status, &arguments))
        }
    }
}

/// The result inside a reply that carries more than a `CommandReply`; the
/// services always set it, so its absence is an internal error.
pub fn result(reply: Option<pb::CommandReply>) -> Result<CommandResult> {
    reply
        .map(|reply| CommandResult { reply })
        .ok_or_else(|| crate::error::internal("read a command reply", &"no reply in the answer"))
}

/// Money in minor units with its ISO 4217 currency. A refused amount or
/// currency is BAD_USER_INPUT with the input's path in `extensions.field`
/// (e.g. `input.offer.amountMinor`).
#[derive(Debug, InputObject)]
pub struct MoneyInput {
    /// Minor units (cents); at most 10^13.
    pub amount_minor: Int64,
    /// The upper-case ISO 4217 code of a currency in circulation, e.g. EUR.
    pub currency: String,
}

impl From<MoneyInput> for pb::Money {
    fn from(m: MoneyInput) -> Self {
        pb::Money {
            amount_minor: m.amount_minor.into(),
            currency: m.currency,
        }
    }
}

/// A calendar date as the services take it.
pub fn date(d: chrono::NaiveDate) -> pb::Date {
    use chrono::Datelike;
    pb::Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}

/// An optional id as the services take it (empty when absent).
pub fn id_or_empty(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(expected_version: Option<i64>) -> CommandInput {
        CommandInput {
            idempotency_key: Uuid::nil(),
            expected_version: expected_version.map(Int64),
            correlation_id: None,
        }
    }

    #[test]
    fn an_expected_version_goes_to_the_service_as_is() {
        let options = command(Some(7)).options().expect("valid").expect("options");
        assert_eq!(options.expected_version, Some(7));
        let options = command(None).options().expect("valid").expect("options");
        assert_eq!(options.expected_version, None);
    }

    /// Were a negative version to pass the field's validator, it is refused
    /// by name, never turned into some other version.
    #[test]
    fn a_negative_expected_version_is_refused_naming_the_field() {
        let error = command(Some(-1)).options().expect_err("refused");
        assert_eq!(
            error.message,
            "command.expectedVersion: a log position or version is 0 or more, not -1"
        );
        let extensions = error.extensions.expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }
}
