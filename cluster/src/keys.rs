//! Which key tenancy signs with and which keys everyone verifies with.

use anyhow::{bail, Context};
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use deedlog_proto::tenancy::v1::GetSigningKeysRequest;
use deedlog_runtime::auth::{Audience, KeyPair, TokenVerifier};
use deedlog_runtime::settings::{Environment, Settings};
use secrecy::SecretString;
use std::time::Duration;

/// The signing key from settings, or in development a fresh one.
pub fn signing_key(settings: &Settings) -> anyhow::Result<KeyPair> {
    let auth = &settings.auth;
    let pem = match (&auth.signing_key, &auth.signing_key_file) {
        (Some(pem), _) => Some(pem.clone()),
        (None, Some(path)) => Some(SecretString::from(
            std::fs::read_to_string(path)
                .with_context(|| format!("read auth.signing_key_file {path}"))?,
        )),
        (None, None) => None,
    };
    match pem {
        Some(pem) => KeyPair::from_pem(&pem, auth.kid.clone()).context("load auth.signing_key"),
        None if settings.environment == Environment::Development => {
            let pair = KeyPair::generate(auth.kid.clone())?;
            tracing::warn!(
                kid = %pair.kid,
                "no auth.signing_key configured: generated a development key; tokens will not survive a restart \
                 (set auth.signing_key or auth.signing_key_file; `deedlog keys generate` makes one)"
            );
            Ok(pair)
        }
        None => bail!(
            "auth.signing_key or auth.signing_key_file is required when environment = \"production\""
        ),
    }
}

/// The configured verification keys as `(kid, pem)`.
pub fn configured_public_keys(settings: &Settings) -> Vec<(String, String)> {
    settings
        .auth
        .public_keys
        .iter()
        .map(|k| (k.kid.clone(), k.pem.clone()))
        .collect()
}

/// Asks tenancy for its public keys, retrying while it starts.
pub async fn fetch_public_keys(tenancy_url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut last_error = None;
    for _ in 0..30 {
        match TenancyServiceClient::connect(tenancy_url.to_owned()).await {
            Ok(mut client) => {
                let keys = client
                    .get_signing_keys(GetSigningKeysRequest {})
                    .await
                    .context("ask tenancy for its signing keys")?
                    .into_inner();
                return Ok(keys
                    .keys
                    .into_iter()
                    .map(|k| (k.kid, k.public_key_pem))
                    .collect());
            }
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!(
        "tenancy at {tenancy_url} did not answer for its signing keys: {}",
        last_error.map(|e| e.to_string()).unwrap_or_default()
    )
}

/// What the roles of one process trust: tenancy's signing key when tenancy
/// runs here, and the public keys every role verifies tokens with.
pub(crate) struct Keys {
    pub signing: Option<KeyPair>,
    pub public: Vec<(String, String)>,
    pub verifier: TokenVerifier,
}

impl Keys {
    /// The configured keys, plus the signing key's own when this process
    /// `signs` (tenancy runs here); with neither, tenancy's published keys.
    pub async fn load(
        settings: &Settings,
        audience: &Audience,
        signs: bool,
    ) -> anyhow::Result<Self> {
        let signing = if signs {
            Some(signing_key(settings)?)
        } else {
            None
        };
        let mut public = configured_public_keys(settings);
        if let Some(pair) = &signing {
            public.push((pair.kid.clone(), pair.public_pem()?));
        } else if public.is_empty() {
            public = fetch_public_keys(&settings.services.tenancy_url).await?;
        }
        let verifier = TokenVerifier::new(
            public.iter().map(|(kid, pem)| (kid.as_str(), pem.as_str())),
            audience,
        )?;
        Ok(Self {
            signing,
            public,
            verifier,
        })
    }
}
