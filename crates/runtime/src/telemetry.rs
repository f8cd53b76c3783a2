//! Logging set-up: structured `tracing` output, pretty for people or JSON for
//! machines, written by a background thread so logging never blocks a request.

use crate::settings::{LogFormat, LogSettings};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Flushes buffered log lines when dropped; keep it alive for the whole process.
#[derive(Debug)]
pub struct TelemetryGuard {
    _writer: tracing_appender::non_blocking::WorkerGuard,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("log.filter {filter:?} is not a valid tracing filter: {reason}")]
    Filter { filter: String, reason: String },
}

/// Installs the global subscriber; `RUST_LOG`, when set, overrides `log.filter`.
/// If a subscriber is already installed (a test harness, an embedding
/// program) it is kept and logging goes there.
pub fn init(settings: &LogSettings) -> Result<TelemetryGuard, Error> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.trim().is_empty() => from_env,
        _ => settings.filter.clone(),
    };
    let filter = EnvFilter::try_new(&filter).map_err(|e| Error::Filter {
        filter: filter.clone(),
        reason: e.to_string(),
    })?;
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(writer).with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(writer).flatten_event(true))
            .try_init(),
    };
    if installed.is_err() {
        tracing::debug!("a tracing subscriber was already installed; keeping it");
    }
    Ok(TelemetryGuard { _writer: guard })
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
        let message = init(&settings).expect_err("bad level").to_string();
        assert!(
            message.starts_with("log.filter \"deedlog=loud\" is not a valid tracing filter"),
            "{message}"
        );
    }
}
