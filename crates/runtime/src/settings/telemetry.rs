//! Settings of trace export: where spans go over OTLP, and how many.

use super::{check_range, Error};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The OTLP/gRPC endpoint spans are exported to, e.g.
    /// `http://otel-collector:4317`; empty: no spans are exported.
    pub otlp_endpoint: String,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Share of new traces kept (0.0 to 1.0); a trace begun by a caller
    /// follows the caller's sampling decision.
    pub sample_ratio: f64,
    /// How often finished spans are sent.
    pub export_interval_ms: u64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            service_name: "deedlog".into(),
            sample_ratio: 1.0,
            export_interval_ms: 5000,
        }
    }
}

impl TelemetrySettings {
    pub fn exporting(&self) -> bool {
        !self.otlp_endpoint.is_empty()
    }

    pub fn export_interval(&self) -> Duration {
        Duration::from_millis(self.export_interval_ms)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let endpoint = &self.otlp_endpoint;
        if !(endpoint.is_empty()
            || endpoint.starts_with("http://")
            || endpoint.starts_with("https://"))
        {
            return Err(Error::Invalid {
                key: "telemetry.otlp_endpoint",
                value: format!("{endpoint:?}"),
                allowed: "a URL starting with http:// or https://, or empty for none",
            });
        }
        if self.service_name.trim().is_empty() {
            return Err(Error::Invalid {
                key: "telemetry.service_name",
                value: format!("{:?}", self.service_name),
                allowed: "a name such as \"deedlog\"",
            });
        }
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(Error::Invalid {
                key: "telemetry.sample_ratio",
                value: self.sample_ratio.to_string(),
                allowed: "a share from 0.0 to 1.0",
            });
        }
        check_range(
            "telemetry.export_interval_ms",
            self.export_interval_ms,
            10,
            60_000,
        )
    }
}
