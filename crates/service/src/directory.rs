//! What the other services need to know from tenancy — a tenant's status,
//! modules and settings, its users' current roles and statuses, a user's
//! role and status — asked over gRPC with the caller's own token and kept
//! for a short, configured time (`services.tenant_cache_ttl_ms`, 1 s by
//! default).
//!
//! A token proves only who the caller is: [`Directory::admit`] checks the
//! caller against the tenant's roster as it is now (the one rule,
//! [`deedlog_kernel::current_role`]) and gives them their current role, so
//! a deactivation, a change of role or a suspension takes effect within
//! the cache time, whatever the token still claims.

use crate::error::Error;
use crate::request::Authenticated;
use deedlog_client::roster;
use deedlog_kernel::{
    current_role, Membership, Module, Reason, Role, TenantId, UserId, TENANT_SUSPENDED,
};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// A tenant as a deciding service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    pub suspended: bool,
    pub modules: BTreeSet<Module>,
    pub time_zone: String,
    pub cadence_limit: u32,
    pub cadence_window_days: u32,
    /// Every user of the tenant with their current role and status.
    pub members: Arc<HashMap<UserId, Membership>>,
}

impl TenantInfo {
    /// Refuses commands when the tenant is suspended or `module` is off.
    pub fn gate(&self, module: Module) -> Result<(), Error> {
        if self.suspended {
            return Err(Error::refused(
                Reason::new(TENANT_SUSPENDED),
                "the tenant is suspended; it accepts no commands until reactivated",
            ));
        }
        if !self.modules.contains(&module) {
            return Err(Error::refused(
                Reason::new("MODULE_SWITCHED_OFF").with("module", module),
                format!("the {module} module is switched off for this tenant"),
            ));
        }
        Ok(())
    }
}

/// A user as a deciding service sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserInfo {
    pub role: Role,
    pub active: bool,
}

type Cache<K, V> = Mutex<HashMap<K, (Instant, V)>>;

/// The tenancy service, asked on behalf of callers.
#[derive(Debug)]
pub struct Directory {
    client: TenancyServiceClient<Channel>,
    ttl: Duration,
    tenants: Cache<TenantId, TenantInfo>,
    users: Cache<(TenantId, UserId), Option<UserInfo>>,
}

impl Directory {
    /// A directory that connects to `url` on first use.
    pub fn connect_lazy(url: &str, ttl: Duration) -> Result<Self, Error> {
        let channel = Channel::from_shared(url.to_owned())
            .map_err(|_| Error::internal("parse the tenancy URL", &url))?
            .connect_timeout(Duration::from_secs(2))
            .connect_lazy();
        Ok(Self {
            client: TenancyServiceClient::new(channel),
            ttl,
            tenants: Mutex::default(),
            users: Mutex::default(),
        })
    }

    /// Checks the caller against their tenant as it is now and returns
    /// them with their current role (the token's role claim is not used),
    /// with the tenant. A user the tenant no longer has as an active user
    /// is UNAUTHENTICATED; a suspended tenant's users other than admins and
    /// auditors are refused (FAILED_PRECONDITION), reads as well as writes.
    pub async fn admit(
        &self,
        mut auth: Authenticated,
    ) -> Result<(Authenticated, TenantInfo), Error> {
        let tenant = self.tenant(&auth).await?;
        let member = tenant.members.get(&auth.caller.user).copied();
        auth.caller.role = current_role(member, tenant.suspended)?;
        Ok((auth, tenant))
    }

    /// The caller's tenant.
    pub async fn tenant(&self, auth: &Authenticated) -> Result<TenantInfo, Error> {
        let key = auth.caller.tenant;
        if let Some(hit) = cached(&self.tenants, &key, self.ttl) {
            return Ok(hit);
        }
        let reply = self
            .client
            .clone()
            .get_tenant(with_token(pb::GetTenantRequest {}, auth)?)
            .await
            .map_err(|s| from_status(s, "tenant"))?
            .into_inner();
        let info = TenantInfo {
            suspended: reply.suspended,
            modules: reply
                .modules()
                .filter_map(|m| match m {
                    pb::Module::Properties => Some(Module::Properties),
                    pb::Module::Deals => Some(Module::Deals),
                    pb::Module::Communications => Some(Module::Communications),
                    pb::Module::Analytics => Some(Module::Analytics),
                    pb::Module::Unspecified => None,
                })
                .collect(),
            time_zone: reply.time_zone,
            cadence_limit: reply.cadence_limit,
            cadence_window_days: reply.cadence_window_days,
            members: Arc::new(members(&reply.members)),
        };
        store(&self.tenants, key, info.clone());
        Ok(info)
    }

    /// A user of the caller's tenant, or None when there is no such user.
    pub async fn user(
        &self,
        auth: &Authenticated,
        user: UserId,
    ) -> Result<Option<UserInfo>, Error> {
        let key = (auth.caller.tenant, user);
        if let Some(hit) = cached(&self.users, &key, self.ttl) {
            return Ok(hit);
        }
        let request = pb::GetUserRequest {
            user_id: user.to_string(),
        };
        let info = match self
            .client
            .clone()
            .get_user(with_token(request, auth)?)
            .await
        {
            Ok(reply) => {
                let reply = reply.into_inner();
                Some(UserInfo {
                    role: role_from_proto(reply.role()).ok_or(Error::Internal)?,
                    active: reply.status() == pb::UserStatus::Active,
                })
            }
            Err(status) if status.code() == tonic::Code::NotFound => None,
            Err(status) => return Err(from_status(status, "user")),
        };
        store(&self.users, key, info);
        Ok(info)
    }

    /// Checks that `user` may own records (an active admin, manager or agent).
    pub async fn require_owner(
        &self,
        auth: &Authenticated,
        field: &str,
        user: UserId,
    ) -> Result<(), Error> {
        match self.user(auth, user).await? {
            Some(info) if info.active && info.role.may_own_records() => Ok(()),
            Some(info) if !info.active => Err(Error::refused(
                Reason::new("OWNER_NOT_ACTIVE").with("userId", user),
                format!("user {user} is not an active user of this tenant"),
            )),
            Some(info) => Err(Error::refused(
                Reason::new("OWNER_ROLE_NOT_ALLOWED")
                    .with("userId", user)
                    .with("role", info.role),
                format!(
                    "user {user} is {} and cannot be assigned records",
                    info.role.with_article()
                ),
            )),
            None => Err(Error::invalid(
                field,
                format!("user {user} is not a user of this tenant"),
            )),
        }
    }
}

/// The roster of a tenant reply, read as every caller reads it.
fn members(members: &[pb::Member]) -> HashMap<UserId, Membership> {
    members.iter().filter_map(roster::membership).collect()
}

/// The domain role for a proto role.
pub use deedlog_client::roster::role as role_from_proto;

/// The proto role for a domain role.
pub fn role_to_proto(role: Role) -> pb::Role {
    match role {
        Role::Admin => pb::Role::Admin,
        Role::Manager => pb::Role::Manager,
        Role::Agent => pb::Role::Agent,
        Role::Viewer => pb::Role::Viewer,
        Role::Auditor => pb::Role::Auditor,
    }
}

fn with_token<T>(message: T, auth: &Authenticated) -> Result<tonic::Request<T>, Error> {
    let caller = deedlog_client::Caller::with_bearer(&auth.token)
        .map_err(|_| Error::Unauthenticated("the token is malformed".to_owned()))?;
    Ok(caller.request(message))
}

fn from_status(status: tonic::Status, what: &str) -> Error {
    match status.code() {
        tonic::Code::NotFound => Error::NotFound(format!("the {what} does not exist")),
        tonic::Code::Unauthenticated => Error::Unauthenticated(status.message().to_owned()),
        tonic::Code::PermissionDenied => Error::PermissionDenied(status.message().to_owned()),
        // Tenancy refuses a suspended tenant's users other than admins and auditors.
        tonic::Code::FailedPrecondition => {
            Error::refused(Reason::new(TENANT_SUSPENDED), status.message().to_owned())
        }
        _ => {
            tracing::warn!(code = ?status.code(), message = status.message(), "tenancy lookup failed");
            Error::Unavailable("the tenancy service is unavailable; retry shortly".to_owned())
        }
    }
}

fn cached<K: Eq + std::hash::Hash, V: Clone>(
    cache: &Cache<K, V>,
    key: &K,
    ttl: Duration,
) -> Option<V> {
    if ttl.is_zero() {
        return None;
    }
    let cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .get(key)
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, value)| value.clone())
}

fn store<K: Eq + std::hash::Hash, V>(cache: &Cache<K, V>, key: K, value: V) {
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Bounded: a cache of a few thousand tenants or users is plenty; start over beyond.
    if cache.len() > 10_000 {
        cache.clear();
    }
    cache.insert(key, (Instant::now(), value));
}
