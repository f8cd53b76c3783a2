//! The gRPC surface: each RPC admits the caller, builds the domain action
//! from the request (`convert`) and runs it through the context.

use crate::{convert, PropertiesApi};
use deedlog_kernel::{Role, UserId};
use deedlog_properties_domain::{Action, State};
use deedlog_proto::common::v1::{AsOfRequest, CommandOptions, CommandReply, RecordState};
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::properties::v1::properties_service_server::PropertiesService;
use deedlog_service::convert::{money, optional_date, optional_money, user};
use deedlog_service::reference::{self, CONTACT};
use deedlog_service::request::{new_record_id, optional_uuid, required_uuid};
use deedlog_service::{Authenticated, Error, Paths};
use tonic::{Request, Response, Status};

/// Requests that carry an asking price: the domain's `price` is their `asking_price`.
const ASKING_PRICE: Paths = Paths(&[("price", "asking_price")]);
/// A valuation: the domain's `price` is the request's `value`.
const VALUATION: Paths = Paths(&[("price", "value")]);
/// Requests whose fields the domain names as they are.
const AS_NAMED: Paths = Paths(&[]);

impl PropertiesApi {
    /// A writer's change of the property the request names: the action is
    /// built from the request, the owner contact it names (if any) must be
    /// a contact of the tenant, and refusals name fields as `paths` maps them.
    async fn change_checked<T: prost::Message>(
        &self,
        request: Request<T>,
        paths: Paths,
        options: impl Fn(&T) -> Option<&CommandOptions>,
        record: impl Fn(&T) -> &str,
        action: impl Fn(&T) -> Result<Action, Error>,
    ) -> Result<Response<CommandReply>, Status> {
        let admitted = self
            .ctx
            .admit(
                &request,
                Role::may_write_records,
                self.ctx.what,
                options,
                record,
            )
            .await?;
        let action = action(request.get_ref()).map_err(|e| paths.rename(e))?;
        if let Action::SetOwner(owner) = &action {
            let tenant = admitted.envelope.metadata.tenant_id;
            reference::require_optional(
                &self.ctx.executor,
                tenant,
                "owner_contact_id",
                CONTACT,
                *owner,
            )
            .await?;
        }
        let executed = self
            .ctx
            .execute(&admitted.envelope, admitted.record, move |_| {
                Ok(action.clone())
            })
            .await
            .map_err(|e| paths.rename(e))?;
        Ok(Response::new(executed.reply()))
    }
}

/// Agents reassign only properties they own; managers and admins any.
fn may_reassign(auth: &Authenticated, state: &State) -> Result<(), Error> {
    if auth.caller.role.manages_all_records() {
        return Ok(());
    }
    match state.0.as_ref().and_then(|p| p.agent) {
        Some(agent) if agent == auth.caller.user => Ok(()),
        _ => Err(Error::PermissionDenied(
            "an agent may reassign only properties assigned to them".to_owned(),
        )),
    }
}

#[tonic::async_trait]
impl PropertiesService for PropertiesApi {
    async fn get_as_of(
        &self,
        request: Request<AsOfRequest>,
    ) -> Result<Response<RecordState>, Status> {
        self.ctx.as_of(request).await
    }

    async fn create_property(
        &self,
        request: Request<pb::CreatePropertyRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        let auth = self.ctx.admit_writer(&request).await?;
        let r = request.get_ref();
        let envelope = auth.command(r, r.command.as_ref())?;
        let property = new_record_id("property_id", &r.property_id, &envelope)?;
        let agent = match optional_uuid("agent_id", &r.agent_id)?.map(UserId::from_uuid) {
            Some(agent) => {
                self.ctx
                    .directory
                    .require_owner(&auth, "agent_id", agent)
                    .await?;
                Some(agent)
            }
            None if auth.caller.role == Role::Agent => Some(auth.caller.user),
            None => None,
        };
        let owner = optional_uuid("owner_contact_id", &r.owner_contact_id)?;
        let action = Action::Create {
            address: convert::address("address", r.address.as_ref())?,
            kind: convert::kind(r.kind())?,
            attributes: convert::attributes(r.attributes.as_ref())?,
            asking_price: optional_money("asking_price", r.asking_price.as_ref())?,
            agent,
            owner,
            tags: convert::tags(&r.tags)?,
        };
        let tenant = envelope.metadata.tenant_id;
        reference::require_optional(
            &self.ctx.executor,
            tenant,
            "owner_contact_id",
            CONTACT,
            owner,
        )
        .await?;
        let executed = self
            .ctx
            .execute(&envelope, property, move |_| Ok(action.clone()))
            .await
            .map_err(|e| ASKING_PRICE.rename(e))?;
        Ok(Response::new(executed.reply()))
    }

    async fn change_address(
        &self,
        request: Request<pb::ChangeAddressRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |r| {
                    Ok(Action::ChangeAddress(convert::address(
                        "address",
                        r.address.as_ref(),
                    )?))
                },
            )
            .await
    }

    async fn change_attributes(
        &self,
        request: Request<pb::ChangeAttributesRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |r| {
                    Ok(Action::ChangeAttributes(convert::attributes(
                        r.attributes.as_ref(),
                    )?))
                },
            )
            .await
    }

    async fn change_asking_price(
        &self,
        request: Request<pb::ChangeAskingPriceRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.change_checked(
            request,
            ASKING_PRICE,
            |r| r.command.as_ref(),
            |r| &r.property_id,
            |r| {
                Ok(Action::ChangeAskingPrice(money(
                    "asking_price",
                    r.asking_price.as_ref(),
                )?))
            },
        )
        .await
    }

    async fn record_valuation(
        &self,
        request: Request<pb::RecordValuationRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.change_checked(
            request,
            VALUATION,
            |r| r.command.as_ref(),
            |r| &r.property_id,
            |r| {
                Ok(Action::RecordValuation {
                    value: money("value", r.value.as_ref())?,
                    source: convert::provenance("source", r.source.as_ref())?.source,
                    valued_on: optional_date("valued_on", r.valued_on.as_ref())?
                        .ok_or_else(|| Error::invalid("valued_on", "is required"))?,
                })
            },
        )
        .await
    }

    async fn change_listing_status(
        &self,
        request: Request<pb::ChangeListingStatusRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |r| Ok(Action::ChangeListingStatus(convert::status(r.status())?)),
            )
            .await
    }

    async fn assign_agent(
        &self,
        request: Request<pb::AssignAgentRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        let auth = self.ctx.admit_writer(&request).await?;
        let r = request.get_ref();
        let envelope = auth.command(r, r.command.as_ref())?;
        let property = required_uuid("property_id", &r.property_id)?;
        let agent = user("agent_id", &r.agent_id)?;
        self.ctx
            .directory
            .require_owner(&auth, "agent_id", agent)
            .await?;
        self.ctx
            .run(&envelope, property, |state| {
                may_reassign(&auth, state)?;
                Ok(Action::AssignAgent(agent))
            })
            .await
    }

    async fn set_owner(
        &self,
        request: Request<pb::SetOwnerRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.change_checked(
            request,
            AS_NAMED,
            |r| r.command.as_ref(),
            |r| &r.property_id,
            |r| {
                Ok(Action::SetOwner(optional_uuid(
                    "owner_contact_id",
                    &r.owner_contact_id,
                )?))
            },
        )
        .await
    }

    async fn add_tag(
        &self,
        request: Request<pb::TagRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |r| Ok(Action::AddTag(r.tag.clone())),
            )
            .await
    }

    async fn remove_tag(
        &self,
        request: Request<pb::TagRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |r| Ok(Action::RemoveTag(r.tag.clone())),
            )
            .await
    }

    async fn archive_property(
        &self,
        request: Request<pb::ArchivePropertyRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |_| Ok(Action::Archive),
            )
            .await
    }

    async fn restore_property(
        &self,
        request: Request<pb::RestorePropertyRequest>,
    ) -> Result<Response<CommandReply>, Status> {
        self.ctx
            .change(
                request,
                |r| r.command.as_ref(),
                |r| &r.property_id,
                |_| Ok(Action::Restore),
            )
            .await
    }
}
