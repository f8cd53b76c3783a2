//! The tenancy service role: it signs the tokens, so it holds the signing
//! key, and it reads the log to answer who may do what.

use super::{routes_of, Shared};
use anyhow::Context;
use tonic::service::Routes;

pub fn build(shared: &Shared<'_>) -> anyhow::Result<(&'static str, Routes)> {
    let settings = shared.settings;
    let reader = shared.reader.clone().context("tenancy has a log reader")?;
    let pair = shared
        .keys
        .signing
        .as_ref()
        .context("tenancy has a signing key")?;
    let api = deedlog_tenancy::TenancyApi::new(
        shared.executor.clone(),
        reader,
        shared.auth.clone(),
        pair,
        shared.audience.clone(),
        shared.keys.public.clone(),
        deedlog_tenancy::Lifetimes {
            access: settings.auth.access_ttl(),
            refresh: settings.auth.refresh_ttl(),
            invitation: settings.auth.invitation_ttl(),
        },
        &deedlog_tenancy::LoginLimits {
            failures: settings.services.login_failures_per_address,
            window: settings.services.login_failure_window(),
            trusted_proxies: settings.services.trusted_proxies.clone(),
        },
    )?;
    Ok(routes_of(api.into_server()))
}
