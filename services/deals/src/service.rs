//! The gRPC methods of the deals service, each a short description of its
//! command over the shared path in the crate root.

use crate::{convert, DealsApi};
use deedlog_deals_domain::{Action, State};
use deedlog_kernel::{Role, UserId};
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use deedlog_proto::deals::v1 as pb;
use deedlog_proto::deals::v1::deals_service_server::DealsService;
use deedlog_service::convert::{money, optional_date, optional_money};
use deedlog_service::reference::{self, CONTACT, PROPERTY};
use deedlog_service::request::{new_record_id, optional_uuid, required_uuid};
use deedlog_service::{Answer, Authenticated, Error, Paths};
use tonic::Request;

/// Agents reassign only deals they own; managers and admins any. A deal
/// that does not exist is left for the domain to report as not found.
fn may_reassign(auth: &Authenticated, state: &State) -> Result<(), Error> {
    match &state.0 {
        Some(deal) if deal.agent != auth.caller.user && !auth.caller.role.manages_all_records() => {
            Err(Error::PermissionDenied(
                "an agent may reassign only deals assigned to them".to_owned(),
            ))
        }
        _ => Ok(()),
    }
}

#[tonic::async_trait]
impl DealsService for DealsApi {
    async fn get_as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        self.ctx.as_of(request).await
    }

    async fn open_deal(&self, request: Request<pb::OpenDealRequest>) -> Answer<CommandReply> {
        let auth = self
            .admit(&request, Role::may_write_records, "open deals")
            .await?;
        let r = request.get_ref();
        let envelope = auth.command(r, r.command.as_ref())?;
        let deal = new_record_id("deal_id", &r.deal_id, &envelope)?;
        // Every role that may open a deal may also own it, so the caller is the default.
        let agent = match optional_uuid("agent_id", &r.agent_id)?.map(UserId::from_uuid) {
            Some(agent) => {
                self.ctx
                    .directory
                    .require_owner(&auth, "agent_id", agent)
                    .await?;
                agent
            }
            None => auth.caller.user,
        };
        let property = required_uuid("property_id", &r.property_id)?;
        let buyer = required_uuid("buyer_contact_id", &r.buyer_contact_id)?;
        let action = Action::Open {
            property,
            buyer,
            agent,
            offer: optional_money("offer", r.offer.as_ref())?,
            commission: optional_money("commission", r.commission.as_ref())?,
            expected_close: optional_date("expected_close", r.expected_close.as_ref())?,
        };
        // The request is well formed; now the records it names must exist.
        let tenant = envelope.metadata.tenant_id;
        let executor = &self.ctx.executor;
        reference::require(executor, tenant, "property_id", PROPERTY, property).await?;
        reference::require(executor, tenant, "buyer_contact_id", CONTACT, buyer).await?;
        self.ctx
            .run_fixed(&envelope, deal, Paths::AS_NAMED, action)
            .await
    }

    async fn move_stage(&self, request: Request<pb::MoveStageRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::MoveStage(convert::stage(r.stage())?))
            })
            .await
    }

    async fn win_deal(&self, request: Request<pb::WinDealRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::Win {
                    final_price: money("final_price", r.final_price.as_ref())?,
                })
            })
            .await
    }

    async fn lose_deal(&self, request: Request<pb::LoseDealRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::Lose {
                    reason: r.reason.clone(),
                })
            })
            .await
    }

    async fn set_offer(&self, request: Request<pb::SetOfferRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::SetOffer(money("offer", r.offer.as_ref())?))
            })
            .await
    }

    async fn set_commission(
        &self,
        request: Request<pb::SetCommissionRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::SetCommission(money(
                    "commission",
                    r.commission.as_ref(),
                )?))
            })
            .await
    }

    async fn set_probability(
        &self,
        request: Request<pb::SetProbabilityRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::SetProbability(convert::probability(
                    r.probability_pct,
                )?))
            })
            .await
    }

    async fn set_expected_close(
        &self,
        request: Request<pb::SetExpectedCloseRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                let date = optional_date("expected_close", r.expected_close.as_ref())?;
                Ok(Action::SetExpectedClose(date))
            })
            .await
    }

    async fn reassign_deal(
        &self,
        request: Request<pb::ReassignDealRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .reassign(
                request,
                "reassign deals",
                |r| &r.agent_id,
                may_reassign,
                Action::Reassign,
            )
            .await
    }

    async fn reopen_deal(&self, request: Request<pb::ReopenDealRequest>) -> Answer<CommandReply> {
        self.ctx
            .change_as(Role::manages_all_records, "reopen deals", request, |_| {
                Ok(Action::Reopen)
            })
            .await
    }

    async fn add_scenario(&self, request: Request<pb::ScenarioRequest>) -> Answer<CommandReply> {
        self.ctx.change(request, convert::add_scenario).await
    }

    async fn update_scenario(&self, request: Request<pb::ScenarioRequest>) -> Answer<CommandReply> {
        self.ctx.change(request, convert::update_scenario).await
    }

    async fn remove_scenario(
        &self,
        request: Request<pb::RemoveScenarioRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::RemoveScenario {
                    scenario_id: required_uuid("scenario_id", &r.scenario_id)?,
                })
            })
            .await
    }
}
