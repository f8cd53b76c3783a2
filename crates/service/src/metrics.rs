//! The command services' Prometheus series: one set per process, labelled
//! by service, so `deedlog up` (four services in one process) serves them
//! from one `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    /// The gRPC service, e.g. `deedlog.properties.v1.PropertiesService`.
    service: String,
    method: String,
    /// The gRPC status code name, `OK` for success.
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AppendLabels {
    /// property, deal, contact, tenant…
    stream_type: String,
    /// appended, duplicate, conflict or failed.
    outcome: String,
}

#[derive(Debug)]
struct Metrics {
    registry: Registry,
    rpc: Family<RpcLabels, Histogram>,
    append: Family<AppendLabels, Histogram>,
    retries: Counter,
}

fn latency() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("deedlog");
    let rpc = Family::<RpcLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
    let append =
        Family::<AppendLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
    let retries = Counter::default();
    registry.register(
        "command_duration_seconds",
        "Time a command service took to answer a request (commands and reads)",
        rpc.clone(),
    );
    registry.register(
        "append_duration_seconds",
        "Time an append to the event log took",
        append.clone(),
    );
    registry.register(
        "command_retries",
        "Commands decided again after losing a race for their record",
        retries.clone(),
    );
    Metrics {
        registry,
        rpc,
        append,
        retries,
    }
});

/// Records one answered request of `path` (`/package.Service/Method`).
pub fn observe_request(path: &str, code: &str, took: Duration) {
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("unknown", path));
    METRICS
        .rpc
        .get_or_create(&RpcLabels {
            service: service.to_owned(),
            method: method.to_owned(),
            code: code.to_owned(),
        })
        .observe(took.as_secs_f64());
}

/// Records one append to a `stream_type` stream.
pub fn observe_append(stream_type: &str, outcome: &str, took: Duration) {
    METRICS
        .append
        .get_or_create(&AppendLabels {
            stream_type: stream_type.to_owned(),
            outcome: outcome.to_owned(),
        })
        .observe(took.as_secs_f64());
}

/// Counts a command decided again after a lost race.
pub fn count_retry() {
    METRICS.retries.inc();
}

/// Every series in the Prometheus text format.
pub fn render() -> String {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &METRICS.registry).is_err() {
        text.clear();
    }
    text
}
