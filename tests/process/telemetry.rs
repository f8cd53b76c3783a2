//! Telemetry of a running `deedlog up`: a real OTLP receiver (the
//! collector's gRPC TraceService, in this test) gets the spans of one
//! GraphQL mutation under one trace id — the gateway's request, the
//! properties service's command as its child, and the projector's work on
//! the appended event as the command's child — and every component's
//! `/metrics` parses as Prometheus text and carries the series operators
//! alert on.

use crate::shutdown::{connect, deedlog, drop_database, start, terminate};
use deedlog_tests::otlp::{Chain, OtlpReceiver};
use deedlog_tests::prometheus::{self, Sample};
use serde_json::{json, Value};
use sqlx::Connection;
use std::time::Duration;
use uuid::Uuid;

const CLIENT_TRACE: &str = "5f0c2a7e9d314b8c8e6a1f2b3c4d5e6f";
const CLIENT_SPAN: &str = "a1b2c3d4e5f60718";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mutation_is_one_trace_and_every_component_serves_metrics() {
    let receiver = OtlpReceiver::start().await;
    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let mut command = deedlog(&name, &["up", "--seed", "demo"]);
    command
        .env("DEEDLOG__LOG__FILTER", "info")
        .env("DEEDLOG__TELEMETRY__OTLP_ENDPOINT", receiver.endpoint())
        .env("DEEDLOG__TELEMETRY__SERVICE_NAME", "deedlog-test")
        .env("DEEDLOG__TELEMETRY__EXPORT_INTERVAL_MS", "100");
    let (up, urls) = start(command, "demo tenant");
    let graphql = urls["gateway"].clone();
    let http = reqwest::Client::new();

    let login = post(
        &http,
        &graphql,
        None,
        None,
        r#"mutation { login(tenantSlug: "demo", email: "anna@demo.deedlog.example", password: "deedlog-demo-password") { accessToken } }"#,
    )
    .await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {login}"))
        .to_owned();

    // A traced frontend's mutation: its traceparent names the client's span.
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let created = post(
        &http,
        &graphql,
        Some(&token),
        Some(&traceparent),
        &create_property("DE"),
    )
    .await;
    let record = created["data"]["createProperty"]["recordId"]
        .as_str()
        .unwrap_or_else(|| panic!("createProperty: {created}"))
        .to_owned();
    // A refused one, so the services' metrics carry an error code too.
    let refused = post(
        &http,
        &graphql,
        Some(&token),
        None,
        &create_property("Deutschland"),
    )
    .await;
    assert!(refused["errors"].is_array(), "{refused}");

    // The spans arrive within a few export intervals, as one chain.
    let Chain {
        gateway,
        command,
        projector,
    } = receiver
        .chain(
            CLIENT_TRACE,
            CLIENT_SPAN,
            "deedlog.properties.v1.PropertiesService/CreateProperty",
            &["properties", "timeline"],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(gateway.name, "graphql mutation");
    assert_eq!(command.attributes["rpc.grpc.status_code"], "OK");
    for span in [&gateway, &command].into_iter().chain(&projector) {
        assert_eq!(span.service_name, "deedlog-test");
    }

    // The log keeps the command's span as the event's trace context.
    let mut db = connect(&name).await;
    let stored: String = sqlx::query_scalar(
        "SELECT traceparent FROM events WHERE stream_id = $1::uuid ORDER BY position LIMIT 1",
    )
    .bind(&record)
    .fetch_one(&mut db)
    .await
    .expect("the created property's event");
    assert_eq!(stored, format!("00-{CLIENT_TRACE}-{}-01", command.span_id));
    db.close().await.expect("close");

    // The auditor's view of the record names the trace.
    let (ok, history, _) = crate::shutdown::run_deedlog(&name, &["audit", "history", &record]);
    assert!(ok, "{history}");
    assert!(
        history.contains(&format!("trace {CLIENT_TRACE}")),
        "{history}"
    );

    // Every component's /metrics parses and carries its named series.
    let services = scrape(&http, &urls["services metrics"]).await;
    let created_ok = count(
        &services,
        "deedlog_command_duration_seconds_count",
        &[("method", "CreateProperty"), ("code", "OK")],
    );
    assert!(created_ok >= 1.0, "{services:#?}");
    let refused = count(
        &services,
        "deedlog_command_duration_seconds_count",
        &[("method", "CreateProperty"), ("code", "INVALID_ARGUMENT")],
    );
    assert_eq!(refused, 1.0);
    let appended = count(
        &services,
        "deedlog_append_duration_seconds_count",
        &[("stream_type", "property"), ("outcome", "appended")],
    );
    assert!(appended >= 1.0, "{services:#?}");
    assert!(!prometheus::find(&services, "deedlog_command_retries_total", &[]).is_empty());

    let projector = scrape(&http, &urls["projector metrics"]).await;
    for series in [
        "deedlog_projection_lag_positions",
        "deedlog_projection_lag_seconds",
        "deedlog_projection_dead_letters_pending",
    ] {
        assert!(
            !prometheus::find(&projector, series, &[("projection", "properties")]).is_empty(),
            "{series} missing"
        );
    }
    let gateway_metrics = scrape(&http, &graphql.replace("/graphql", "/metrics")).await;
    assert!(
        count(
            &gateway_metrics,
            "deedlog_gateway_request_duration_seconds_count",
            &[("kind", "mutation")]
        ) >= 3.0
    );

    // The listeners without HTTP of their own answer the orchestrator's probes.
    for metrics in ["services metrics", "projector metrics"] {
        for probe in ["healthz", "readyz"] {
            let url = urls[metrics].replace("/metrics", &format!("/{probe}"));
            let status = http.get(&url).send().await.expect(probe).status();
            assert_eq!(status, reqwest::StatusCode::OK, "{url}");
        }
    }

    let exit = terminate(up).await;
    assert!(exit.success(), "deedlog up exited with {exit}");
    drop_database(&name).await;
}

fn create_property(country: &str) -> String {
    format!(
        r#"mutation {{ createProperty(command: {{idempotencyKey: "{}"}}, input: {{address: {{street: "Lindenstraße 5", postalCode: "10969", city: "Berlin", country: "{country}"}}, kind: APARTMENT, askingPrice: {{amountMinor: 45000000, currency: "EUR"}}}}) {{ recordId position }} }}"#,
        Uuid::now_v7()
    )
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    traceparent: Option<&str>,
    query: &str,
) -> Value {
    let mut request = http.post(url).json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tp) = traceparent {
        request = request.header("traceparent", tp);
    }
    request
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON")
}

async fn scrape(http: &reqwest::Client, url: &str) -> Vec<Sample> {
    let text = http
        .get(url)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    prometheus::parse(&text).unwrap_or_else(|e| panic!("{url} is not Prometheus text: {e}"))
}

fn count(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    prometheus::find(samples, name, labels)
        .iter()
        .map(|s| s.value)
        .sum()
}
