//! Logging and tracing set-up: structured `tracing` output, pretty for
//! people or JSON for machines, written by a background thread so logging
//! never blocks a request; and, when `telemetry.otlp_endpoint` is set, the
//! same spans exported over OTLP/gRPC, joined across components by W3C
//! trace contexts (HTTP and gRPC headers, and the events in the log).

use crate::settings::{LogFormat, LogSettings, TelemetrySettings};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, Sampler, SdkTracerProvider};
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Flushes buffered log lines and unsent spans; keep it alive for the whole
/// process and call [`TelemetryGuard::shutdown`] on the way out.
#[derive(Debug)]
pub struct TelemetryGuard {
    _writer: tracing_appender::non_blocking::WorkerGuard,
    spans: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Sends the spans still buffered and stops the exporter.
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.spans.take() {
            // The provider blocks until its batch task (on this runtime) is done.
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.spans.take() {
            // Not on a runtime thread: the batch task needs the runtime to finish.
            std::thread::spawn(move || provider.shutdown());
        }
    }
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("log.filter {filter:?} is not a valid tracing filter: {reason}")]
    Filter { filter: String, reason: String },
    #[error("telemetry.otlp_endpoint {endpoint:?}: cannot export spans there: {reason}")]
    Exporter { endpoint: String, reason: String },
}

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Installs the global subscriber; `RUST_LOG`, when set, overrides `log.filter`.
/// If a subscriber is already installed (a test harness, an embedding
/// program) it is kept and logging goes there. With an OTLP endpoint this
/// must run inside the tokio runtime, which then carries the exports.
pub fn init(
    settings: &LogSettings,
    telemetry: &TelemetrySettings,
) -> Result<TelemetryGuard, Error> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.trim().is_empty() => from_env,
        _ => settings.filter.clone(),
    };
    let filter = EnvFilter::try_new(&filter).map_err(|e| Error::Filter {
        filter: filter.clone(),
        reason: e.to_string(),
    })?;
    let spans = telemetry
        .exporting()
        .then(|| span_exporter(telemetry))
        .transpose()?;
    let otel = spans
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("deedlog")));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = match settings.format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(writer).with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(writer).flatten_event(true))
            .try_init(),
    };
    match installed {
        Ok(()) => EXPORTING.store(spans.is_some(), Ordering::Relaxed),
        Err(_) => tracing::debug!("a tracing subscriber was already installed; keeping it"),
    }
    Ok(TelemetryGuard {
        _writer: guard,
        spans,
    })
}

fn span_exporter(telemetry: &TelemetrySettings) -> Result<SdkTracerProvider, Error> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(&telemetry.otlp_endpoint)
        .build()
        .map_err(|e| Error::Exporter {
            endpoint: telemetry.otlp_endpoint.clone(),
            reason: e.to_string(),
        })?;
    let batches = BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(telemetry.export_interval())
                .build(),
        )
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            telemetry.sample_ratio,
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(telemetry.service_name.clone())
                .build(),
        )
        .build())
}

/// Whether spans leave the process (callers skip span work otherwise).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Makes `span` a child of the W3C `traceparent` of another process (or of
/// an event in the log); a malformed one is ignored, as W3C asks.
pub fn follow(span: &Span, traceparent: &str) {
    if let Some(context) = remote_context(traceparent) {
        let _ = span.set_parent(context);
    }
}

fn remote_context(traceparent: &str) -> Option<opentelemetry::Context> {
    let mut parts = traceparent.split('-');
    let (Some("00"), Some(trace), Some(span), Some(flags), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let context = SpanContext::new(
        TraceId::from_hex(trace).ok()?,
        SpanId::from_hex(span).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        TraceState::default(),
    );
    context
        .is_valid()
        .then(|| opentelemetry::Context::new().with_remote_span_context(context))
}

/// The W3C `traceparent` naming `span`, when it is part of an exported trace.
pub fn traceparent(span: &Span) -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = span.context();
    let span = context.span();
    let span = span.span_context();
    span.is_valid().then(|| {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            span.trace_id(),
            span.span_id(),
            span.trace_flags().to_u8()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_filter_names_the_setting() {
        let settings = LogSettings {
            format: LogFormat::Json,
            filter: "deedlog=loud".into(),
        };
        if std::env::var_os("RUST_LOG").is_some() {
            return; // RUST_LOG takes precedence over the setting under test
        }
        let telemetry = crate::settings::Settings::load(None, &Default::default())
            .expect("defaults load")
            .telemetry;
        let message = init(&settings, &telemetry)
            .expect_err("bad level")
            .to_string();
        assert!(
            message.starts_with("log.filter \"deedlog=loud\" is not a valid tracing filter"),
            "{message}"
        );
    }

    #[test]
    fn remote_contexts_are_read_from_w3c_traceparents_only() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = remote_context(valid).expect("a valid traceparent");
        let span = context.span();
        let span = span.span_context();
        assert_eq!(
            format!("{:032x}", span.trace_id()),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(format!("{:016x}", span.span_id()), "00f067aa0ba902b7");
        assert!(span.is_sampled() && span.is_remote());
        for bad in [
            "",
            "garbage",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-xyz-00f067aa0ba902b7-01",
        ] {
            assert!(remote_context(bad).is_none(), "{bad:?} was accepted");
        }
    }
}
