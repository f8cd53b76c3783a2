//! Who the caller is now: an access token proves only who they are; what
//! they may do comes from their tenant's roster as tenancy has it now
//! (`GetTenant`, asked with the caller's own token), kept for
//! `services.tenant_cache_ttl_ms` (1 s by default), the same time the
//! command services keep it. Every request is checked with the one rule
//! every service applies ([`deedlog_kernel::current_role`]), so a
//! deactivation, a change of role or a suspension takes effect at the
//! gateway's read models as at the services, within that time.

use crate::viewer::{Refused, Viewer};
use deedlog_client::{roster, Caller};
use deedlog_kernel::{current_role, Membership, TenantId, UserId};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use deedlog_runtime::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// What the rule needs of a tenant.
#[derive(Debug)]
struct Access {
    suspended: bool,
    members: HashMap<UserId, Membership>,
}

/// Each tenant's access facts with the instant they were asked.
type Cache = HashMap<TenantId, (Instant, Arc<Access>)>;

/// The tenants' rosters, asked of tenancy and kept for a short time.
#[derive(Debug, Clone)]
pub struct Roster {
    client: TenancyServiceClient<Channel>,
    ttl: Duration,
    tenants: Arc<Mutex<Cache>>,
}

/// Most tenants remembered; beyond, the memory starts over.
const TENANTS: usize = 10_000;

impl Roster {
    pub fn new(client: TenancyServiceClient<Channel>, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            tenants: Arc::default(),
        }
    }

    /// The viewer with their current role, or why their token may not be
    /// used now: UNAUTHENTICATED for a user the tenant no longer has as an
    /// active user, RULE_REFUSED for a suspended tenant's users other than
    /// admins and auditors, UNAVAILABLE when tenancy cannot be asked.
    pub async fn admit(&self, mut viewer: Viewer) -> Result<Viewer, Refused> {
        let access = self.access(&viewer).await?;
        let member = access.members.get(&viewer.caller.user).copied();
        viewer.caller.role = current_role(member, access.suspended).map_err(|denied| {
            let code = if denied.is_unauthenticated() {
                ErrorCode::Unauthenticated
            } else {
                ErrorCode::RuleRefused
            };
            Refused::Now {
                code,
                message: denied.to_string(),
            }
        })?;
        Ok(viewer)
    }

    async fn access(&self, viewer: &Viewer) -> Result<Arc<Access>, Refused> {
        let tenant = viewer.caller.tenant;
        if !self.ttl.is_zero() {
            let tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, access)) = tenants.get(&tenant) {
                if at.elapsed() < self.ttl {
                    return Ok(access.clone());
                }
            }
        }
        let caller = Caller::with_bearer(&viewer.token).map_err(|_| Refused::Now {
            code: ErrorCode::Unauthenticated,
            message: "the token is malformed".to_owned(),
        })?;
        let request = caller.request(pb::GetTenantRequest {});
        let reply = self
            .client
            .clone()
            .get_tenant(request)
            .await
            .map_err(refused)?
            .into_inner();
        let access = Arc::new(Access {
            suspended: reply.suspended,
            members: reply
                .members
                .iter()
                .filter_map(roster::membership)
                .collect(),
        });
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if tenants.len() >= TENANTS {
            tenants.clear();
        }
        tenants.insert(tenant, (Instant::now(), access.clone()));
        Ok(access)
    }
}

/// Tenancy's refusal of the caller as it stands (it applies the same rule),
/// or UNAVAILABLE, logged, when it could not answer.
fn refused(status: tonic::Status) -> Refused {
    let code = ErrorCode::from_grpc(status.code());
    match code {
        ErrorCode::Unauthenticated
        | ErrorCode::PermissionDenied
        | ErrorCode::RuleRefused
        | ErrorCode::NotFound => Refused::Now {
            code,
            message: status.message().to_owned(),
        },
        _ => {
            tracing::warn!(code = ?status.code(), message = status.message(), "ask tenancy for the caller's tenant");
            Refused::Now {
                code: ErrorCode::Unavailable,
                message: "the tenancy service is unavailable, so the caller cannot be checked; \
                          retry shortly"
                    .to_owned(),
            }
        }
    }
}
