//! Drives a plan through the command services: registers each tenant and
//! signs its users in, then sends the properties' stories, many at once
//! (each story's steps in order), counting what happens in [`Progress`].

use super::pending::{Pending, Recorded};
use super::plan::{Actor, TenantPlan, User};
use super::send::{self, call, command};
use super::session::Session;
use super::Progress;
use anyhow::Context;
use chrono::NaiveDate;
use deedlog_client::Clients;
use deedlog_proto::tenancy::v1 as tenancy;
use futures::{StreamExt, TryStreamExt};
use std::sync::atomic::Ordering;
use uuid::Uuid;

/// The signed-in users a tenant's stories are sent as.
#[derive(Debug)]
pub struct Crew {
    pub agents: Vec<Session>,
    /// The integration user that records provider reports.
    pub mailer: Session,
}

impl Crew {
    fn session(&self, actor: Actor) -> &Session {
        match actor {
            Actor::Agent(n) => self.agents.get(n).unwrap_or(&self.mailer),
            Actor::Mailer => &self.mailer,
        }
    }
}

/// Invites `user` as an agent (as `admin`) and activates them with `password`.
pub async fn invite(
    services: &Clients,
    admin: &Session,
    user: &User,
    ids: (Uuid, Uuid),
    password: &str,
) -> anyhow::Result<()> {
    let (invite, accept) = ids;
    let message = tenancy::InviteUserRequest {
        command: command(invite),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: tenancy::Role::Agent.into(),
    };
    let invited = call(admin, message, |r| {
        let mut c = services.tenancy.clone();
        async move { c.invite_user(r).await }
    })
    .await
    .with_context(|| format!("invite {}", user.email))?;
    services
        .tenancy
        .clone()
        .accept_invitation(tenancy::AcceptInvitationRequest {
            command: command(accept),
            invitation_token: invited.invitation_token,
            password: password.to_owned(),
        })
        .await
        .with_context(|| format!("activate {}", user.email))?;
    Ok(())
}

/// Sets the tenant's time zone (quiet hours follow it) and a cadence of
/// three messages a week, as command `command_id`.
pub async fn set_time_zone(
    services: &Clients,
    admin: &Session,
    command_id: Uuid,
    tenant: &TenantPlan,
) -> anyhow::Result<()> {
    let settings = tenancy::SetCommunicationSettingsRequest {
        command: command(command_id),
        time_zone: tenant.time_zone().to_owned(),
        cadence_limit: 3,
        cadence_window_days: 7,
    };
    call(admin, settings, |r| {
        let mut c = services.tenancy.clone();
        async move { c.set_communication_settings(r).await }
    })
    .await?;
    Ok(())
}

/// Registers a seeded tenant, sets its time zone, invites its agents and
/// its mail integration user, and signs them all in.
pub async fn set_up(
    services: &Clients,
    tenant: &TenantPlan,
    password: &str,
) -> anyhow::Result<Crew> {
    services
        .tenancy
        .clone()
        .register_tenant(tenancy::RegisterTenantRequest {
            command: command(tenant.id("tenant", 0, "register")),
            name: tenant.name.clone(),
            slug: tenant.slug.clone(),
            admin_email: tenant.admin.email.clone(),
            admin_display_name: tenant.admin.display_name.clone(),
            admin_password: password.to_owned(),
        })
        .await
        .with_context(|| format!("register tenant {}", tenant.slug))?;
    let admin = Session::login(
        &services.tenancy,
        &tenant.slug,
        &tenant.admin.email,
        password,
    )
    .await?;
    set_time_zone(
        services,
        &admin,
        tenant.id("tenant", 0, "communication-settings"),
        tenant,
    )
    .await
    .with_context(|| format!("set the time zone of tenant {}", tenant.slug))?;
    // One user after another: acceptances in one tenant append to the
    // tenant's stream, and with Argon2 one run per core, concurrent ones
    // conflicted until the service's retries ran out.
    let users = tenant.agents.iter().chain([&tenant.mailer]);
    let mut sessions = Vec::new();
    for (k, user) in (0u64..).zip(users) {
        let ids = (
            tenant.id("user", k, "invite"),
            tenant.id("user", k, "accept"),
        );
        invite(services, &admin, user, ids, password).await?;
        sessions
            .push(Session::login(&services.tenancy, &tenant.slug, &user.email, password).await?);
    }
    let mailer = sessions.pop().context("the mailer is among the users")?;
    Ok(Crew {
        agents: sessions,
        mailer,
    })
}

/// A tenant ready to have stories sent: its users, and where the search
/// for its stories still to send is (which knows the tenant's plan).
#[derive(Debug)]
pub struct Work<'a> {
    pub crew: &'a Crew,
    pub pending: &'a mut Pending,
}

/// Sends the pending stories of every tenant, tenant after tenant,
/// `concurrency` at a time. The stories are planned as they are sent and
/// the log is asked about them a chunk at a time, so what is held is
/// bounded by `concurrency` and [`super::pending::CHUNK`], whatever the
/// number of properties.
pub async fn stories<R: Recorded + Sync>(
    services: &Clients,
    work: Vec<Work<'_>>,
    log: Option<&R>,
    concurrency: usize,
    progress: &Progress,
) -> anyhow::Result<()> {
    let today = chrono::Utc::now().date_naive();
    let jobs = futures::stream::iter(work).flat_map(|Work { crew, pending }| {
        futures::stream::try_unfold(pending, move |pending| async move {
            let next = pending.next(log, progress).await?;
            anyhow::Ok(next.map(|index| ((pending.tenant().clone(), crew, index), pending)))
        })
    });
    jobs.map_ok(|(tenant, crew, index)| async move {
        story(services, &tenant, crew, index, today, progress).await
    })
    .try_buffer_unordered(concurrency.max(1))
    .try_for_each(|()| futures::future::ready(Ok(())))
    .await
}

/// Sends one story's steps in order.
async fn story(
    services: &Clients,
    tenant: &TenantPlan,
    crew: &Crew,
    index: u64,
    today: NaiveDate,
    progress: &Progress,
) -> anyhow::Result<()> {
    let story = super::story::story(tenant, index);
    for (n, step) in story.steps.iter().enumerate() {
        let outcome = send::send(services, crew.session(step.actor), step, today)
            .await
            .map_err(|status| anyhow::anyhow!("{:?}: {}", status.code(), status.message()))
            .with_context(|| {
                format!(
                    "step {n} ({}, command {}) of property {index} of tenant {}",
                    step.action.name(),
                    step.command_id,
                    tenant.slug
                )
            })?;
        progress.commands.fetch_add(1, Ordering::Relaxed);
        if outcome.duplicate {
            progress.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        if outcome.refused {
            progress.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
    progress.properties_done.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
