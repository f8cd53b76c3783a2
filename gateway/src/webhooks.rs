//! Provider webhooks: `POST /webhooks/<provider>` with delivery reports,
//! bounces and replies. A request must carry `x-deedlog-timestamp` (Unix
//! seconds) and `x-deedlog-signature: sha256=<hex>`, the HMAC-SHA256 of
//! `<timestamp>.<body>` under the provider's secret; it is refused when
//! unsigned, wrongly signed, more than 5 minutes old (or ahead) or already
//! seen. Accepted reports become communications commands of the provider's
//! integration user, with a command id derived from the provider's event id,
//! so a report delivered twice is recorded once even across gateways.

use crate::app::AppState;
use crate::services::{request, Services};
use crate::viewer::Viewer;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use deedlog_proto::common::v1::{CommandOptions, CommandReply};
use deedlog_proto::communications::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_runtime::auth::Caller;
use deedlog_runtime::settings::WebhookProvider;
use deedlog_runtime::ErrorCode;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// How old (or how far ahead) a signed timestamp may be.
pub const TOLERANCE: Duration = Duration::from_secs(300);

/// The configured providers and the signatures seen recently.
#[derive(Debug)]
pub struct Webhooks {
    providers: HashMap<String, Provider>,
    services: Services,
    seen: Mutex<HashMap<String, Instant>>,
}

#[derive(Debug)]
struct Provider {
    settings: WebhookProvider,
    /// The integration user's session, renewed before it expires.
    session: tokio::sync::Mutex<Option<(Viewer, i64)>>,
}

/// One report from a provider.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Report {
    Delivered(Delivery),
    Opened(Delivery),
    SoftBounced(Delivery),
    HardBounced(Delivery),
    Reply {
        /// The provider's id of this report.
        id: String,
        contact_id: Uuid,
        /// The id deedlog gives the inbound message.
        message_id: Uuid,
        in_reply_to: Option<Uuid>,
        /// email, sms, call or letter.
        channel: String,
        body: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The provider's id of this report.
    id: String,
    contact_id: Uuid,
    message_id: Uuid,
    #[serde(default)]
    detail: String,
}

/// Why a webhook is refused, as the provider is told.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal(status, message.into())
}

impl Webhooks {
    pub fn new(providers: &BTreeMap<String, WebhookProvider>, services: Services) -> Self {
        Self {
            providers: providers
                .iter()
                .map(|(name, settings)| {
                    let provider = Provider {
                        settings: settings.clone(),
                        session: tokio::sync::Mutex::new(None),
                    };
                    (name.clone(), provider)
                })
                .collect(),
            services,
            seen: Mutex::default(),
        }
    }

    /// Checks presence, age and signature, then that it was not seen before.
    fn verify(&self, provider: &Provider, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(timestamp), Some(signature)) =
            (header("x-deedlog-timestamp"), header("x-deedlog-signature"))
        else {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "unsigned: send x-deedlog-timestamp and x-deedlog-signature",
            ));
        };
        let sent: i64 = timestamp.parse().map_err(|_| {
            refuse(
                StatusCode::UNAUTHORIZED,
                "x-deedlog-timestamp is not Unix seconds",
            )
        })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if (now - sent).unsigned_abs() > TOLERANCE.as_secs() {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "stale: the timestamp is more than 5 minutes from now",
            ));
        }
        let expected = signature
            .strip_prefix("sha256=")
            .and_then(decode_hex)
            .ok_or_else(|| {
                refuse(
                    StatusCode::UNAUTHORIZED,
                    "the signature is not sha256=<hex>",
                )
            })?;
        let mut mac = mac(&provider.settings.secret);
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected)
            .map_err(|_| refuse(StatusCode::UNAUTHORIZED, "wrong signature"))?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let at = Instant::now();
        seen.retain(|_, first| at.duration_since(*first) < 2 * TOLERANCE);
        if seen.insert(signature.to_owned(), at).is_some() {
            return Err(refuse(StatusCode::CONFLICT, "already received"));
        }
        Ok(())
    }

    /// The integration user's access, logging in again when it is about to expire.
    async fn viewer(&self, provider: &Provider) -> Result<Viewer, Refusal> {
        let mut session = provider.session.lock().await;
        let now = chrono::Utc::now().timestamp();
        if let Some((viewer, expires)) = session.as_ref() {
            if *expires - 60 > now {
                return Ok(viewer.clone());
            }
        }
        let s = &provider.settings;
        let body = tenancy::LoginRequest {
            tenant_slug: s.tenant_slug.clone(),
            email: s.email.clone(),
            password: s.password.expose_secret().to_owned(),
        };
        let pair = self
            .services
            .tenancy
            .clone()
            .login(request(None, None, body))
            .await
            .map_err(|status| {
                tracing::error!(%status, "log the webhook integration user in");
                refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the provider's integration user cannot sign in; try again later",
                )
            })?
            .into_inner();
        let caller = caller_of(&pair).ok_or_else(|| {
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the integration user's session is malformed",
            )
        })?;
        let viewer = Viewer {
            caller,
            token: pair.access_token.clone(),
        };
        *session = Some((viewer.clone(), pair.access_expires_at_unix));
        Ok(viewer)
    }

    async fn record(
        &self,
        name: &str,
        viewer: &Viewer,
        report: Report,
    ) -> Result<CommandReply, tonic::Status> {
        let mut client = self.services.communications.clone();
        let options = |id: &str| {
            Some(CommandOptions {
                command_id: command_id(name, id).to_string(),
                expected_version: None,
                correlation_id: String::new(),
            })
        };
        let delivery = |d: Delivery, status: pb::DeliveryStatus| pb::RecordDeliveryRequest {
            command: options(&d.id),
            contact_id: d.contact_id.to_string(),
            message_id: d.message_id.to_string(),
            status: status.into(),
            detail: d.detail,
            provider_event_id: d.id,
        };
        let body = match report {
            Report::Delivered(d) => delivery(d, pb::DeliveryStatus::Delivered),
            Report::Opened(d) => delivery(d, pb::DeliveryStatus::Opened),
            Report::SoftBounced(d) => delivery(d, pb::DeliveryStatus::SoftBounced),
            Report::HardBounced(d) => delivery(d, pb::DeliveryStatus::HardBounced),
            Report::Reply {
                id,
                contact_id,
                message_id,
                in_reply_to,
                channel,
                body,
            } => {
                let channel = match channel.as_str() {
                    "email" => pb::Channel::Email,
                    "sms" => pb::Channel::Sms,
                    "call" => pb::Channel::Call,
                    "letter" => pb::Channel::Letter,
                    _ => {
                        return Err(tonic::Status::invalid_argument(format!(
                            "channel {channel:?} is not one of email, sms, call, letter"
                        )))
                    }
                };
                let reply = pb::RecordReplyRequest {
                    command: options(&id),
                    contact_id: contact_id.to_string(),
                    message_id: message_id.to_string(),
                    in_reply_to: in_reply_to.map(|i| i.to_string()).unwrap_or_default(),
                    conversation_id: String::new(),
                    channel: channel.into(),
                    body,
                    provider_event_id: id,
                };
                return Ok(client
                    .record_reply(request(Some(viewer), None, reply))
                    .await?
                    .into_inner());
            }
        };
        Ok(client
            .record_delivery(request(Some(viewer), None, body))
            .await?
            .into_inner())
    }
}

/// `POST /webhooks/<provider>`.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state.webhooks, &name, &headers, &body).await {
        Ok(reply) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "recordId": reply.record_id,
                "version": reply.version,
                "position": reply.position,
                "duplicate": reply.duplicate,
            })),
        )
            .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn handle(
    hooks: &Webhooks,
    name: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CommandReply, Refusal> {
    let provider = hooks.providers.get(name).ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            format!("no webhook provider named {name:?}"),
        )
    })?;
    hooks.verify(provider, headers, body)?;
    let report: Report = serde_json::from_slice(body)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("not a report: {e}")))?;
    let viewer = hooks.viewer(provider).await?;
    hooks.record(name, &viewer, report).await.map_err(|status| {
        let code = ErrorCode::from_grpc(status.code());
        let status_code =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_GATEWAY);
        match code {
            ErrorCode::Internal | ErrorCode::Unavailable => {
                tracing::error!(%status, "record a provider report");
                refuse(
                    status_code,
                    "the report could not be recorded; send it again later",
                )
            }
            _ => refuse(status_code, status.message().to_owned()),
        }
    })
}

/// The command id of a provider's report: the same report, the same id.
pub fn command_id(provider: &str, event_id: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("deedlog:webhook:{provider}:{event_id}").as_bytes(),
    )
}

/// The signature header value of `body` sent at `timestamp` (for providers' tests and ours).
pub fn sign(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn mac(secret: &SecretString) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn caller_of(pair: &tenancy::TokenPair) -> Option<Caller> {
    use deedlog_kernel::{Role, TenantId, UserId};
    let role = match pair.role() {
        tenancy::Role::Admin => Role::Admin,
        tenancy::Role::Manager => Role::Manager,
        tenancy::Role::Agent => Role::Agent,
        tenancy::Role::Viewer => Role::Viewer,
        tenancy::Role::Auditor => Role::Auditor,
        tenancy::Role::Unspecified => return None,
    };
    Some(Caller {
        user: UserId::from_uuid(Uuid::parse_str(&pair.user_id).ok()?),
        tenant: TenantId::from_uuid(Uuid::parse_str(&pair.tenant_id).ok()?),
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_round_trips_and_hex_is_strict() {
        let secret = SecretString::from("s3cret");
        let sig = sign(&secret, 1_700_000_000, b"{}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(decode_hex(&sig[7..]).is_some());
        assert!(decode_hex("abc").is_none());
        assert!(decode_hex("zz").is_none());
        assert_eq!(command_id("m", "1"), command_id("m", "1"));
        assert_ne!(command_id("m", "1"), command_id("m", "2"));
    }
}
