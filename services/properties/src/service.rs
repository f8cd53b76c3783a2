//! The gRPC surface: each RPC admits the caller, builds the domain action
//! from the request (`convert`) and runs it through the context.

use crate::{convert, PropertiesApi};
use deedlog_kernel::{Role, UserId};
use deedlog_properties_domain::{Action, State};
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::properties::v1::properties_service_server::PropertiesService;
use deedlog_service::convert::{money, optional_date, optional_money};
use deedlog_service::reference::{self, CONTACT};
use deedlog_service::request::{new_record_id, optional_uuid};
use deedlog_service::{Answer, Authenticated, Error, Paths};
use tonic::Request;

/// Requests that carry an asking price: the domain's `price` is their `asking_price`.
const ASKING_PRICE: Paths = Paths(&[("price", "asking_price")]);
/// A valuation: the domain's `price` is the request's `value`.
const VALUATION: Paths = Paths(&[("price", "value")]);

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
    async fn get_as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        self.ctx.as_of(request).await
    }

    async fn create_property(
        &self,
        request: Request<pb::CreatePropertyRequest>,
    ) -> Answer<CommandReply> {
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
        self.ctx
            .run_fixed(&envelope, property, ASKING_PRICE, action)
            .await
    }

    async fn change_address(
        &self,
        request: Request<pb::ChangeAddressRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::ChangeAddress(convert::address(
                    "address",
                    r.address.as_ref(),
                )?))
            })
            .await
    }

    async fn change_attributes(
        &self,
        request: Request<pb::ChangeAttributesRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::ChangeAttributes(convert::attributes(
                    r.attributes.as_ref(),
                )?))
            })
            .await
    }

    async fn change_asking_price(
        &self,
        request: Request<pb::ChangeAskingPriceRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change_named(request, ASKING_PRICE, |r| {
                Ok(Action::ChangeAskingPrice(money(
                    "asking_price",
                    r.asking_price.as_ref(),
                )?))
            })
            .await
    }

    async fn record_valuation(
        &self,
        request: Request<pb::RecordValuationRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change_named(request, VALUATION, |r| {
                Ok(Action::RecordValuation {
                    value: money("value", r.value.as_ref())?,
                    source: convert::provenance("source", r.source.as_ref())?.source,
                    valued_on: optional_date("valued_on", r.valued_on.as_ref())?
                        .ok_or_else(|| Error::invalid("valued_on", "is required"))?,
                })
            })
            .await
    }

    async fn change_listing_status(
        &self,
        request: Request<pb::ChangeListingStatusRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::ChangeListingStatus(convert::status(r.status())?))
            })
            .await
    }

    async fn assign_agent(&self, request: Request<pb::AssignAgentRequest>) -> Answer<CommandReply> {
        self.ctx
            .reassign(
                request,
                self.ctx.what,
                |r| &r.agent_id,
                may_reassign,
                Action::AssignAgent,
            )
            .await
    }

    async fn set_owner(&self, request: Request<pb::SetOwnerRequest>) -> Answer<CommandReply> {
        let admitted = self.ctx.admit(&request).await?;
        let owner = optional_uuid("owner_contact_id", &request.get_ref().owner_contact_id)?;
        let tenant = admitted.envelope.metadata.tenant_id;
        let executor = &self.ctx.executor;
        reference::require_optional(executor, tenant, "owner_contact_id", CONTACT, owner).await?;
        let action = Action::SetOwner(owner);
        self.ctx
            .run_fixed(&admitted.envelope, admitted.record, Paths::AS_NAMED, action)
            .await
    }

    async fn add_tag(&self, request: Request<pb::TagRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| Ok(Action::AddTag(r.tag.clone())))
            .await
    }

    async fn remove_tag(&self, request: Request<pb::TagRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| Ok(Action::RemoveTag(r.tag.clone())))
            .await
    }

    async fn archive_property(
        &self,
        request: Request<pb::ArchivePropertyRequest>,
    ) -> Answer<CommandReply> {
        self.ctx.change(request, |_| Ok(Action::Archive)).await
    }

    async fn restore_property(
        &self,
        request: Request<pb::RestorePropertyRequest>,
    ) -> Answer<CommandReply> {
        self.ctx.change(request, |_| Ok(Action::Restore)).await
    }
}
