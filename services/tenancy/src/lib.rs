//! The tenancy command service: registers tenants with their first admin,
//! runs their user roster, roles and modules, logs users in (Argon2id
//! passwords, lock-out), issues signed access tokens and revocable refresh
//! tokens, and answers the other services' questions about tenants and users.

mod admin;
pub mod convert;
mod inbox;
mod lookup;
mod secrets;
mod service;
mod session;
mod throttle;

use deedlog_eventstore::LogReader;
use deedlog_kernel::{CommandId, Decider, StreamId, TenantId, UserId};
use deedlog_proto::tenancy::v1::tenancy_service_server::TenancyServiceServer;
use deedlog_runtime::auth::{Caller, KeyPair, Purpose, TokenIssuer};
use deedlog_service::{Authenticator, CommandEnvelope, Error, Executor, Target};
use deedlog_tenancy_domain::credentials::Credentials;
use deedlog_tenancy_domain::slug::Slugs;
use deedlog_tenancy_domain::tenant::Tenants;
use std::sync::Arc;
use std::time::Duration;
pub use throttle::LoginLimits;
use throttle::LoginThrottle;
use uuid::Uuid;

/// Namespace of the UUIDs derived from slugs and command ids (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x6465_6564_6c6f_6700_8000_0000_7465_6e61);

/// Token lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
    pub invitation: Duration,
}

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct TenancyApi {
    executor: Executor,
    reader: LogReader,
    auth: Authenticator,
    issuer: TokenIssuer,
    /// `(kid, public key PEM)` of every key tokens may be signed with.
    public_keys: Vec<(String, String)>,
    lifetimes: Lifetimes,
    /// Failed logins per client address (ADR 0027).
    throttle: Arc<LoginThrottle>,
}

impl TenancyApi {
    // Each argument is a separate part the composition root supplies.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        executor: Executor,
        reader: LogReader,
        auth: Authenticator,
        signing: &KeyPair,
        audience: deedlog_runtime::auth::Audience,
        public_keys: Vec<(String, String)>,
        lifetimes: Lifetimes,
        login_limits: &LoginLimits,
    ) -> Result<Self, deedlog_runtime::auth::Error> {
        Ok(Self {
            executor,
            reader,
            auth,
            issuer: TokenIssuer::new(signing, audience)?,
            public_keys,
            lifetimes,
            throttle: Arc::new(LoginThrottle::new(login_limits)),
        })
    }

    pub fn into_server(self) -> TenancyServiceServer<Self> {
        TenancyServiceServer::new(self)
    }

    /// Signs a token for `caller`; returns it with its expiry.
    fn token(
        &self,
        caller: &Caller,
        purpose: Purpose,
        ttl: Duration,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>), Error> {
        let now = chrono::Utc::now();
        let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let token = self
            .issuer
            .issue(caller, purpose, now, expires_at, Uuid::now_v7())
            .map_err(|e| Error::internal("sign a token", &e))?;
        Ok((token, expires_at))
    }
}

fn tenant_target(tenant: TenantId) -> Target {
    Target {
        stream_id: StreamId::from_uuid(tenant.as_uuid()),
        stream_type: Tenants::STREAM_TYPE,
    }
}

fn credentials_target(user: UserId) -> Target {
    Target {
        stream_id: StreamId::from_uuid(user.as_uuid()),
        stream_type: Credentials::STREAM_TYPE,
    }
}

fn slug_target(slug: &str) -> Target {
    Target {
        stream_id: StreamId::from_uuid(Uuid::new_v5(&NAMESPACE, slug.as_bytes())),
        stream_type: Slugs::STREAM_TYPE,
    }
}

/// An id derived from a command id, so that a repeated command derives the same one.
fn derived(command: Uuid, label: &str) -> Uuid {
    Uuid::new_v5(&command, label.as_bytes())
}

/// The metadata of one step of a multi-stream command: its own command id
/// (derived, so a repeat is recognised per stream), caused by the command.
fn step(envelope: &CommandEnvelope, label: &str) -> CommandEnvelope {
    let mut step = envelope.clone();
    let command = envelope.metadata.command_id.as_uuid();
    step.metadata.command_id = CommandId::from_uuid(derived(command, label));
    step.expected_version = None;
    step
}
