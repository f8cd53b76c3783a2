//! The gateway role: reads through the read-model pool and sends commands
//! to the services, reaching those that run in this process where they
//! were bound (port 0 in tests).

use super::Bound;
use crate::Component;
use deedlog_gateway::Gateway;
use deedlog_runtime::auth::TokenVerifier;
use deedlog_runtime::settings::Settings;

pub async fn build(
    settings: &Settings,
    bound: &[Bound],
    verifier: TokenVerifier,
    tenancy_url: &str,
    pool: sqlx::PgPool,
) -> anyhow::Result<Gateway> {
    let mut settings = settings.clone();
    let local = |c: Component| {
        bound
            .iter()
            .find(|b| b.component == c)
            .map(|b| format!("http://{}", b.server.local_addr))
    };
    let g = &mut settings.gateway;
    if let Some(url) = local(Component::Properties) {
        g.properties_url = url;
    }
    if let Some(url) = local(Component::Deals) {
        g.deals_url = url;
    }
    if let Some(url) = local(Component::Communications) {
        g.communications_url = url;
    }
    let keyring = crate::privacy::keyring(&settings, pool.clone()).await?;
    Gateway::build(&settings, verifier, tenancy_url, pool, keyring).await
}
