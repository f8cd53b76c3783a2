//! The deals service over gRPC: the pipeline end to end, refusals naming the
//! allowed moves, reopen for managers only, scenarios, bad arguments.

use crate::{assert_invalid_field, assert_status};
use deedlog_proto::deals::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::command;
use deedlog_tests::fixtures::{eur, lose, move_stage, reopen};
use deedlog_tests::start_with_tenant;
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn a_deal_walks_the_pipeline_is_won_and_only_a_manager_reopens_it() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let manager = c.colleague(&admin, tenancy::Role::Manager, "mia").await;
    let deal = c.deal(&agent).await;
    assert_status(
        c.deals
            .move_stage(agent.request(move_stage(&deal, pb::Stage::Offer)))
            .await,
        Code::FailedPrecondition,
        "allowed: qualified",
    );
    for stage in [
        pb::Stage::Qualified,
        pb::Stage::Viewing,
        pb::Stage::Offer,
        pb::Stage::Negotiation,
        pb::Stage::UnderContract,
    ] {
        c.deals
            .move_stage(agent.request(move_stage(&deal, stage)))
            .await
            .expect("one step forward");
    }
    c.deals
        .set_probability(agent.request(pb::SetProbabilityRequest {
            command: command(),
            deal_id: deal.clone(),
            probability_pct: Some(95),
        }))
        .await
        .expect("probability");
    c.deals
        .add_scenario(agent.request(pb::ScenarioRequest {
            command: command(),
            deal_id: deal.clone(),
            scenario_id: Uuid::now_v7().to_string(),
            name: "cash".into(),
            price: eur(41_000_000),
            costs: vec![pb::Cost {
                label: "notary".into(),
                amount: eur(600_000),
            }],
            financing: None,
        }))
        .await
        .expect("scenario");
    let won = c
        .deals
        .win_deal(agent.request(pb::WinDealRequest {
            command: command(),
            deal_id: deal.clone(),
            final_price: eur(41_000_000),
        }))
        .await
        .expect("win")
        .into_inner();
    assert_eq!(won.version, 9);
    assert_status(
        c.deals.reopen_deal(agent.request(reopen(&deal))).await,
        Code::PermissionDenied,
        "",
    );
    c.deals
        .reopen_deal(manager.request(reopen(&deal)))
        .await
        .expect("a manager reopens");
}

#[tokio::test]
async fn losing_needs_a_reason_and_bad_arguments_name_their_field() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let deal = c.deal(&admin).await;
    assert_invalid_field(
        c.deals.lose_deal(admin.request(lose(&deal, " "))).await,
        "reason",
        "reason",
    );
    assert_invalid_field(
        c.deals
            .set_probability(admin.request(pb::SetProbabilityRequest {
                command: command(),
                deal_id: deal.clone(),
                probability_pct: Some(150),
            }))
            .await,
        "",
        "probability_pct",
    );
    assert_invalid_field(
        c.deals
            .move_stage(admin.request(move_stage(&deal, pb::Stage::Unspecified)))
            .await,
        "",
        "stage",
    );
    c.deals
        .lose_deal(admin.request(lose(&deal, "financing fell through")))
        .await
        .expect("lost with a reason");
    assert_status(
        c.deals
            .move_stage(admin.request(move_stage(&deal, pb::Stage::Qualified)))
            .await,
        Code::FailedPrecondition,
        "closed",
    );
}

#[tokio::test]
async fn the_remaining_deal_commands_work() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let deal = c.deal(&agent).await;
    let d = &mut c.deals;
    d.set_offer(agent.request(pb::SetOfferRequest {
        command: command(),
        deal_id: deal.clone(),
        offer: eur(41_000_000),
    }))
    .await
    .expect("offer");
    d.set_commission(agent.request(pb::SetCommissionRequest {
        command: command(),
        deal_id: deal.clone(),
        commission: eur(1_230_000),
    }))
    .await
    .expect("commission");
    d.set_expected_close(agent.request(pb::SetExpectedCloseRequest {
        command: command(),
        deal_id: deal.clone(),
        expected_close: Some(deedlog_proto::common::v1::Date {
            year: 2027,
            month: 3,
            day: 31,
        }),
    }))
    .await
    .expect("expected close");
    let scenario = Uuid::now_v7().to_string();
    let financed = |name: &str| pb::ScenarioRequest {
        command: command(),
        deal_id: deal.clone(),
        scenario_id: scenario.clone(),
        name: name.into(),
        price: eur(41_000_000),
        costs: vec![],
        financing: Some(pb::Financing {
            loan: eur(30_000_000),
            annual_rate_bp: 350,
            term_months: 360,
        }),
    };
    d.add_scenario(agent.request(financed("mortgage")))
        .await
        .expect("add scenario");
    d.update_scenario(agent.request(financed("mortgage 3.5%")))
        .await
        .expect("update scenario");
    d.remove_scenario(agent.request(pb::RemoveScenarioRequest {
        command: command(),
        deal_id: deal.clone(),
        scenario_id: scenario.clone(),
    }))
    .await
    .expect("remove scenario");
    assert_status(
        d.remove_scenario(agent.request(pb::RemoveScenarioRequest {
            command: command(),
            deal_id: deal.clone(),
            scenario_id: scenario,
        }))
        .await,
        Code::NotFound,
        "",
    );
    // An agent hands their own deal to a colleague, then may no longer move it on.
    let reassigned = d
        .reassign_deal(agent.request(pb::ReassignDealRequest {
            command: command(),
            deal_id: deal.clone(),
            agent_id: admin.user_id.clone(),
        }))
        .await
        .expect("reassign own deal")
        .into_inner();
    assert_eq!(reassigned.version, 8);
    assert_status(
        d.reassign_deal(agent.request(pb::ReassignDealRequest {
            command: command(),
            deal_id: deal.clone(),
            agent_id: agent.user_id.clone(),
        }))
        .await,
        Code::PermissionDenied,
        "",
    );
}
