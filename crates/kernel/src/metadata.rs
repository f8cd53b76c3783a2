//! What every event records about the command that caused it.

use crate::ids::{CausationId, CommandId, CorrelationId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who did what, when and why: carried by a command into each event it causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMetadata {
    pub tenant_id: TenantId,
    /// The acting user or system, e.g. `user:0192…` or `system:webhook`.
    pub actor: String,
    pub command_id: CommandId,
    pub correlation_id: CorrelationId,
    pub causation_id: CausationId,
    /// The instant the command was accepted, from the caller's clock.
    pub occurred_at: DateTime<Utc>,
    /// W3C trace context, so the work on an event joins the command's trace.
    pub trace: Option<TraceContext>,
}

/// A W3C trace context (`traceparent` and optional `tracestate` headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    pub traceparent: String,
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// Checks the `traceparent` shape: `vv-<32 hex>-<16 hex>-<2 hex>`, lowercase.
    pub fn is_well_formed(&self) -> bool {
        let parts: Vec<&str> = self.traceparent.split('-').collect();
        let lens = [2, 32, 16, 2];
        parts.len() == 4
            && parts.iter().zip(lens).all(|(part, len)| {
                part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_shape_is_checked() {
        let good = TraceContext {
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            tracestate: None,
        };
        assert!(good.is_well_formed());
        for bad in [
            "",
            "00-xyz-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            let ctx = TraceContext {
                traceparent: bad.into(),
                tracestate: None,
            };
            assert!(!ctx.is_well_formed(), "{bad}");
        }
    }
}
