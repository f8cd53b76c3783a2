//! Demo data for `deedlog up`: a Berlin brokerage with an admin, an agent
//! and a mail integration user, and 40 properties whose stories the seed
//! generator writes (deals at every stage, buyers with consents,
//! conversations), created through the real gRPC services. Every command
//! has a fixed id, so running it again on the same database changes nothing.

use crate::catalog::BERLIN;
use crate::drive::{self, Crew, Work};
use crate::pending::Pending;
use crate::plan::{TenantPlan, User};
use crate::send::command;
use crate::session::Session;
use anyhow::Context;
use deedlog_client::{Clients, Endpoints};
use deedlog_proto::tenancy::v1 as tenancy;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

pub const SLUG: &str = "demo";
pub const ADMIN_EMAIL: &str = "anna@demo.deedlog.example";
pub const AGENT_EMAIL: &str = "ben@demo.deedlog.example";
pub const PASSWORD: &str = "deedlog-demo-password";
/// The integration user provider reports (deliveries, replies) come from.
pub const MAILER_EMAIL: &str = "mailer@demo.deedlog.example";
/// Properties of the demo tenant.
pub const PROPERTIES: u64 = 40;

/// The demo's seed, chosen so that no Berlin property ends up sold: the
/// README's tour changes the asking price of the newest Berlin listing,
/// which a sold one refuses (a test below holds this).
const SEED: u64 = 7;
/// Stories sent at once: enough for two cores, few enough to start fast.
const CONCURRENCY: usize = 8;

const NAMESPACE: Uuid = Uuid::from_u128(0x6465_6d6f_0000_7000_8000_0000_0000_0001);

/// A fixed command id per demo step (these ids predate the generator;
/// databases seeded before it have the tenant and users under them).
fn id(step: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, step.as_bytes())
}

/// The demo tenant as a plan for the story generator.
pub fn plan() -> TenantPlan {
    TenantPlan {
        prefix: "demo".to_owned(),
        seed: SEED,
        index: 0,
        name: "Demo Immobilien".to_owned(),
        slug: SLUG.to_owned(),
        admin: User {
            display_name: "Anna Berg".to_owned(),
            email: ADMIN_EMAIL.to_owned(),
        },
        agents: vec![User {
            display_name: "Ben Lund".to_owned(),
            email: AGENT_EMAIL.to_owned(),
        }],
        mailer: User {
            display_name: "Mail provider (webhooks)".to_owned(),
            email: MAILER_EMAIL.to_owned(),
        },
        home: BERLIN,
        properties: PROPERTIES,
        first_deal: 0,
        tag: Some("demo"),
    }
}

/// Loads the demo through the services listening at the given addresses.
pub async fn seed(
    tenancy_addr: SocketAddr,
    properties_addr: SocketAddr,
    deals_addr: SocketAddr,
    communications_addr: SocketAddr,
) -> anyhow::Result<()> {
    let services = Clients::connect(&Endpoints::at(
        tenancy_addr,
        properties_addr,
        deals_addr,
        communications_addr,
    ))
    .await?;
    let plan = plan();
    services
        .tenancy
        .clone()
        .register_tenant(tenancy::RegisterTenantRequest {
            command: command(id("register")),
            name: plan.name.clone(),
            slug: SLUG.into(),
            admin_email: ADMIN_EMAIL.into(),
            admin_display_name: plan.admin.display_name.clone(),
            admin_password: PASSWORD.into(),
        })
        .await
        .context("register the demo tenant")?;
    let admin = Session::login(&services.tenancy, SLUG, ADMIN_EMAIL, PASSWORD).await?;
    drive::set_time_zone(&services, &admin, id("communication-settings"), &plan)
        .await
        .context("set the demo tenant's time zone")?;
    let agent = &plan.agents[0];
    let (ben, mailer) = tokio::try_join!(
        user(&services, &admin, agent, ("invite-agent", "accept-agent")),
        user(
            &services,
            &admin,
            &plan.mailer,
            ("invite-mailer", "accept-mailer")
        ),
    )?;
    let crew = Crew {
        agents: vec![ben],
        mailer,
    };
    let mut pending = Pending::new(Arc::new(plan));
    let work = vec![Work {
        crew: &crew,
        pending: &mut pending,
    }];
    let no_log = None::<&deedlog_eventstore::LogReader>;
    drive::stories(&services, work, no_log, CONCURRENCY, &Default::default())
        .await
        .context("load the demo's properties, buyers and deals")
}

/// Invites and activates a demo user (each under its fixed ids) and signs them in.
async fn user(
    services: &Clients,
    admin: &Session,
    user: &User,
    steps: (&str, &str),
) -> anyhow::Result<Session> {
    drive::invite(services, admin, user, (id(steps.0), id(steps.1)), PASSWORD).await?;
    Session::login(&services.tenancy, SLUG, &user.email, PASSWORD).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Expect, Listing, Stage};
    use crate::story::story;
    use std::collections::BTreeSet;

    #[test]
    fn the_demo_has_every_stage_consents_and_conversations_and_sells_nothing_in_berlin() {
        let plan = plan();
        let stories: Vec<_> = (0..PROPERTIES).map(|i| story(&plan, i)).collect();
        let stages: BTreeSet<Stage> = stories.iter().filter_map(|s| s.deal).collect();
        assert_eq!(stages.len(), 8, "{stages:?}");
        let berlin: Vec<_> = stories.iter().filter(|s| s.city == "Berlin").collect();
        assert!(berlin.len() >= 5, "{} in Berlin", berlin.len());
        for s in &berlin {
            assert_ne!(s.listing, Listing::Sold, "property {} is sold", s.index);
            // The tour reads a Berlin property as it was before it set this price.
            for step in &s.steps {
                if let Action::CreateProperty {
                    asking_price: p, ..
                }
                | Action::ChangeAskingPrice { price: p, .. }
                | Action::RecordValuation { value: p, .. } = &step.action
                {
                    assert_ne!(*p, 41_900_000);
                }
            }
        }
        let actions = || {
            stories
                .iter()
                .flat_map(|s| s.steps.iter().map(|s| &s.action))
        };
        assert!(actions().any(|a| matches!(a, Action::GrantConsent { .. })));
        assert!(actions().any(|a| matches!(a, Action::RecordReply { .. })));
        assert!(actions().any(|a| matches!(
            a,
            Action::SendMessage {
                expect: Expect::Queued,
                ..
            }
        )));
    }
}
