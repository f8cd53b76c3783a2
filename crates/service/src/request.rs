//! Turning a gRPC request into a verified caller and command metadata.

use crate::error::Error;
use chrono::Utc;
use deedlog_kernel::{CausationId, CommandId, CommandMetadata, CorrelationId, TraceContext};
use deedlog_proto::common::v1::CommandOptions;
use deedlog_runtime::auth::{Caller, Purpose, TokenVerifier};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Verifies the bearer token of every request; services trust no caller.
///
/// A client sends the same access token with every request until it
/// expires, and checking an Ed25519 signature was a tenth of a command's CPU
/// here; so a token that verified is remembered (by the SHA-256 of the whole
/// token, never by a part an attacker could pair with other claims) until
/// its expiry.
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Arc<TokenVerifier>,
    verified: Arc<Mutex<VerifiedTokens>>,
}

/// Callers and expiries of verified tokens, by the SHA-256 of the token.
type VerifiedTokens = HashMap<[u8; 32], (Caller, i64)>;

/// Most tokens remembered as verified; beyond, the memory starts over.
const VERIFIED_TOKENS: usize = 10_000;

impl Authenticator {
    pub fn new(verifier: TokenVerifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
            verified: Arc::default(),
        }
    }

    /// Verifies an access token, or recalls that it verified and has not expired.
    fn verify(&self, token: &str) -> Result<Caller, Error> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Utc::now().timestamp();
        let remembered = {
            let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            verified.get(&key).copied()
        };
        if let Some((caller, _)) = remembered.filter(|(_, expires)| *expires > now) {
            return Ok(caller);
        }
        let (caller, expires) = self.verifier.verify_with_expiry(token, Purpose::Access)?;
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(key, (caller, expires));
        Ok(caller)
    }

    /// The caller the request's access token names.
    pub fn caller<T>(&self, request: &tonic::Request<T>) -> Result<Authenticated, Error> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        let token = TokenVerifier::bearer(header)?;
        let caller = self.verify(token)?;
        Ok(Authenticated {
            caller,
            token: token.to_owned(),
            trace: trace_context(request.metadata()),
        })
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }
}

/// A request whose token checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    /// The raw token, forwarded when this service asks another on the caller's behalf.
    pub token: String,
    pub trace: Option<TraceContext>,
}

/// A command's metadata and the version its caller expects.
#[derive(Debug, Clone)]
pub struct CommandEnvelope {
    pub metadata: CommandMetadata,
    pub expected_version: Option<u64>,
    /// SHA-256 of the whole request: a command id repeated with another
    /// request is a mistake to refuse, not a repeat to answer.
    pub fingerprint: Option<[u8; 32]>,
}

/// The fingerprint of a request message (prost encodes fields in a fixed
/// order, and no request has a map field, so equal requests encode equally).
pub fn fingerprint(request: &impl prost::Message) -> [u8; 32] {
    Sha256::digest(request.encode_to_vec()).into()
}

impl Authenticated {
    /// Metadata for this caller's `request`, stamped now.
    pub fn command(
        &self,
        request: &impl prost::Message,
        options: Option<&CommandOptions>,
    ) -> Result<CommandEnvelope, Error> {
        envelope(
            request,
            options,
            self.caller.tenant,
            self.caller.actor(),
            self.trace.clone(),
        )
    }
}

/// Builds command metadata for `tenant` and `actor` from the request's options.
pub fn envelope(
    request: &impl prost::Message,
    options: Option<&CommandOptions>,
    tenant: deedlog_kernel::TenantId,
    actor: String,
    trace: Option<TraceContext>,
) -> Result<CommandEnvelope, Error> {
    let options =
        options.ok_or_else(|| Error::invalid("command", "every command needs command options"))?;
    let command_id = required_uuid("command.command_id", &options.command_id)?;
    let correlation =
        optional_uuid("command.correlation_id", &options.correlation_id)?.unwrap_or(command_id);
    Ok(CommandEnvelope {
        metadata: CommandMetadata {
            tenant_id: tenant,
            actor,
            command_id: CommandId::from_uuid(command_id),
            correlation_id: CorrelationId::from_uuid(correlation),
            // A command from a client is caused by the client's request: its own id.
            causation_id: CausationId::from_uuid(command_id),
            occurred_at: Utc::now(),
            trace,
        },
        expected_version: options.expected_version,
        fingerprint: Some(fingerprint(request)),
    })
}

/// The W3C trace context the command's events carry: this request's span
/// when spans are exported (the projector's work then joins the trace
/// beneath it), else the caller's, when well formed (an invalid one is
/// ignored, as the W3C specification asks).
pub fn trace_context(metadata: &tonic::metadata::MetadataMap) -> Option<TraceContext> {
    let get = |key| metadata.get(key).and_then(|v| v.to_str().ok());
    let traceparent = deedlog_runtime::telemetry::traceparent(&tracing::Span::current())
        .or_else(|| get("traceparent").map(str::to_owned))?;
    let trace = TraceContext {
        traceparent,
        tracestate: get("tracestate").map(str::to_owned),
    };
    trace.is_well_formed().then_some(trace)
}

/// A UUID the request must carry.
pub fn required_uuid(field: &str, value: &str) -> Result<Uuid, Error> {
    optional_uuid(field, value)?.ok_or_else(|| Error::invalid(field, "is required (a UUID)"))
}

/// A UUID the request may leave empty.
pub fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(value)
        .map(Some)
        .map_err(|_| Error::invalid(field, format!("{value:?} is not a UUID")))
}

/// The id a client chose for a new record, or else one derived from the
/// creating command, so that sending the same command again names the same record.
pub fn new_record_id(field: &str, value: &str, command: &CommandEnvelope) -> Result<Uuid, Error> {
    // Derived from the tenant and the command id: a repeat names the same
    // record, and another tenant's same command id never meets it.
    let tenant = command.metadata.tenant_id.as_uuid();
    let derived = Uuid::new_v5(&tenant, command.metadata.command_id.as_uuid().as_bytes());
    Ok(optional_uuid(field, value)?.unwrap_or(derived))
}
