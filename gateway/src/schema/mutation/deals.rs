//! Mutations of the deals context, one per command.

use super::command::{date, id_or_empty, rpc, send, CommandInput, CommandResult, MoneyInput};
use crate::schema::enums::DealStage;
use async_graphql::{Context, InputObject, Object, Result};
use chrono::NaiveDate;
use deedlog_proto::deals::v1 as pb;
use uuid::Uuid;

#[derive(Debug, InputObject)]
pub struct OpenDealInput {
    /// The new deal's id; generated when absent.
    pub deal_id: Option<Uuid>,
    pub property_id: Uuid,
    /// The buyer or investor: a contact of the communications context.
    pub buyer_contact_id: Uuid,
    /// Defaults to the caller when the caller is an agent.
    pub agent_id: Option<Uuid>,
    pub offer: Option<MoneyInput>,
    pub commission: Option<MoneyInput>,
    pub expected_close: Option<NaiveDate>,
}

/// One cost of a scenario, e.g. notary or renovation.
#[derive(Debug, InputObject)]
pub struct CostInput {
    pub label: String,
    pub amount: MoneyInput,
}

impl From<CostInput> for pb::Cost {
    fn from(c: CostInput) -> Self {
        pb::Cost {
            label: c.label,
            amount: Some(c.amount.into()),
        }
    }
}

/// How a scenario is financed.
#[derive(Debug, InputObject)]
pub struct FinancingInput {
    pub loan: MoneyInput,
    /// Annual interest in basis points (350 = 3.5%).
    pub annual_rate_bp: u32,
    pub term_months: u32,
}

impl From<FinancingInput> for pb::Financing {
    fn from(f: FinancingInput) -> Self {
        pb::Financing {
            loan: Some(f.loan.into()),
            annual_rate_bp: f.annual_rate_bp,
            term_months: f.term_months,
        }
    }
}

/// A what-if scenario: price, costs and financing give its expected value.
#[derive(Debug, InputObject)]
pub struct ScenarioInput {
    /// Chosen by the client when adding; names the scenario to update.
    pub scenario_id: Uuid,
    pub name: String,
    pub price: MoneyInput,
    #[graphql(default)]
    pub costs: Vec<CostInput>,
    pub financing: Option<FinancingInput>,
}

#[derive(Debug, Default)]
pub struct DealsMutation;

#[Object]
impl DealsMutation {
    /// Opens a deal for a property and a buyer, at the first stage.
    async fn open_deal(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: OpenDealInput,
    ) -> Result<CommandResult> {
        let body = pb::OpenDealRequest {
            command: command.options()?,
            deal_id: id_or_empty(input.deal_id),
            property_id: input.property_id.to_string(),
            buyer_contact_id: input.buyer_contact_id.to_string(),
            agent_id: id_or_empty(input.agent_id),
            offer: input.offer.map(Into::into),
            commission: input.commission.map(Into::into),
            expected_close: input.expected_close.map(date),
        };
        send(ctx, body, rpc!(deals.open_deal)).await
    }

    /// Moves a deal one step forward or back between open stages.
    async fn move_stage(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        stage: DealStage,
    ) -> Result<CommandResult> {
        let body = pb::MoveStageRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            stage: pb::Stage::from(stage).into(),
        };
        send(ctx, body, rpc!(deals.move_stage)).await
    }

    /// Closes a deal as won at its final price.
    async fn win_deal(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        final_price: MoneyInput,
    ) -> Result<CommandResult> {
        let body = pb::WinDealRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            final_price: Some(final_price.into()),
        };
        send(ctx, body, rpc!(deals.win_deal)).await
    }

    /// Closes a deal as lost, with the reason.
    async fn lose_deal(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        reason: String,
    ) -> Result<CommandResult> {
        let body = pb::LoseDealRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            reason,
        };
        send(ctx, body, rpc!(deals.lose_deal)).await
    }

    /// Records the buyer's current offer.
    async fn set_offer(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        offer: MoneyInput,
    ) -> Result<CommandResult> {
        let body = pb::SetOfferRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            offer: Some(offer.into()),
        };
        send(ctx, body, rpc!(deals.set_offer)).await
    }

    /// Sets the commission the deal earns.
    async fn set_commission(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        commission: MoneyInput,
    ) -> Result<CommandResult> {
        let body = pb::SetCommissionRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            commission: Some(commission.into()),
        };
        send(ctx, body, rpc!(deals.set_commission)).await
    }

    /// Sets the probability of closing in percent (0–100), or returns to the
    /// stage's default when `probabilityPct` is null.
    async fn set_probability(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        probability_pct: Option<u32>,
    ) -> Result<CommandResult> {
        let body = pb::SetProbabilityRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            probability_pct,
        };
        send(ctx, body, rpc!(deals.set_probability)).await
    }

    /// Sets the expected closing date, or clears it when `expectedClose` is null.
    async fn set_expected_close(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        expected_close: Option<NaiveDate>,
    ) -> Result<CommandResult> {
        let body = pb::SetExpectedCloseRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            expected_close: expected_close.map(date),
        };
        send(ctx, body, rpc!(deals.set_expected_close)).await
    }

    /// Hands a deal to another agent.
    async fn reassign_deal(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        agent_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ReassignDealRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            agent_id: agent_id.to_string(),
        };
        send(ctx, body, rpc!(deals.reassign_deal)).await
    }

    /// Reopens a closed deal (admins and managers only).
    async fn reopen_deal(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ReopenDealRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
        };
        send(ctx, body, rpc!(deals.reopen_deal)).await
    }

    /// Adds a what-if scenario to a deal.
    async fn add_scenario(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        scenario: ScenarioInput,
    ) -> Result<CommandResult> {
        let body = scenario_request(command, deal_id, scenario)?;
        send(ctx, body, rpc!(deals.add_scenario)).await
    }

    /// Replaces the inputs of one of a deal's scenarios.
    async fn update_scenario(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        scenario: ScenarioInput,
    ) -> Result<CommandResult> {
        let body = scenario_request(command, deal_id, scenario)?;
        send(ctx, body, rpc!(deals.update_scenario)).await
    }

    /// Removes one of a deal's scenarios.
    async fn remove_scenario(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        deal_id: Uuid,
        scenario_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::RemoveScenarioRequest {
            command: command.options()?,
            deal_id: deal_id.to_string(),
            scenario_id: scenario_id.to_string(),
        };
        send(ctx, body, rpc!(deals.remove_scenario)).await
    }
}

fn scenario_request(
    command: CommandInput,
    deal_id: Uuid,
    scenario: ScenarioInput,
) -> Result<pb::ScenarioRequest> {
    Ok(pb::ScenarioRequest {
        command: command.options()?,
        deal_id: deal_id.to_string(),
        scenario_id: scenario.scenario_id.to_string(),
        name: scenario.name,
        price: Some(scenario.price.into()),
        costs: scenario.costs.into_iter().map(Into::into).collect(),
        financing: scenario.financing.map(Into::into),
    })
}
