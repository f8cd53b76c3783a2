//! The gateway's Prometheus series, served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// query, mutation, subscription or webhook.
    pub kind: String,
    /// ok, or the first error's code (e.g. bad_user_input).
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabels {
    /// user or ip.
    pub scope: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// hit, miss (run and kept), unkept (run, not kept: errors or a
    /// change meanwhile) or bypass (not for the cache, or the read models'
    /// state unknown).
    pub outcome: &'static str,
}

/// Request counts and latencies, rate-limit refusals.
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pub rate_limited: Family<ScopeLabels, Counter>,
    /// Read transactions begun (one per resolver that reads, one per
    /// DataLoader batch): what a page costs in SQL.
    pub read_transactions: Counter,
    /// Queries by what the response cache did with them.
    pub response_cache: Family<CacheLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("deedlog_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let rate_limited = Family::<ScopeLabels, Counter>::default();
        registry.register(
            "requests",
            "GraphQL requests and webhooks handled",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit",
            rate_limited.clone(),
        );
        let read_transactions = Counter::default();
        registry.register(
            "read_transactions",
            "Read-model transactions begun",
            read_transactions.clone(),
        );
        let response_cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "response_cache",
            "Queries by what the response cache did with them",
            response_cache.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            rate_limited,
            read_transactions,
            response_cache,
        }
    }
}

impl Metrics {
    /// The series in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
