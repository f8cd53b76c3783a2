//! The gateway protects itself: depth and complexity limits, a body-size
//! limit, rate limits, security headers, CORS from the settings; it reports
//! health, readiness and Prometheus metrics; its committed schema is current.

use crate::World;
use serde_json::json;

#[tokio::test]
async fn limits_headers_health_and_metrics() {
    let mut w = World::with(|f| {
        f.merge(("gateway.max_depth", 5))
            .merge(("gateway.max_complexity", 10))
            .merge(("gateway.max_body_bytes", 4096))
            .merge(("gateway.rate_limit_per_user", 40))
            .merge(("gateway.cors_origins", vec!["https://app.example.com"]))
    })
    .await;
    let admin = w.clients.register("berg").await;
    let token = Some(admin.access.as_str());

    let deep = "{ properties { edges { node { timeline { edges { node { summary } } } } } } }";
    w.gql
        .run(token, deep, json!({}))
        .await
        .assert_error("BAD_USER_INPUT", "too deep");
    let complex = "{ a: properties { edges { node { city street country kind rooms } } } b: properties { edges { node { city street country kind rooms } } } c: tenant { slug name status } }";
    w.gql
        .run(token, complex, json!({}))
        .await
        .assert_error("BAD_USER_INPUT", "too complex");

    let huge = json!({ "query": format!("{{ tenant {{ slug }} }} #{}", "x".repeat(8192)) });
    let response = w
        .gql
        .http()
        .post(&w.gql.endpoint)
        .bearer_auth(&admin.access)
        .json(&huge)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 413, "oversized body");

    // Security headers and CORS for the allowed origin only.
    let from_origin = |origin: &'static str| {
        let request = w.gql.http().post(&w.gql.endpoint).header("origin", origin);
        request.json(&json!({"query": "{ __typename }"})).send()
    };
    let response = from_origin("https://app.example.com")
        .await
        .expect("answer");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let response = from_origin("https://evil.example.com")
        .await
        .expect("answer");
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    // The per-user allowance runs out: RATE_LIMITED with 429.
    let mut limited = None;
    for _ in 0..60 {
        let answer = w.gql.run(token, "{ tenant { slug } }", json!({})).await;
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("the rate limit applies");
    limited.assert_error("RATE_LIMITED", "too many requests");

    let get = |path| w.gql.get(path);
    assert_eq!(get("/healthz").await.status().as_u16(), 200);
    assert_eq!(get("/readyz").await.status().as_u16(), 200);
    let metrics = get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains("deedlog_gateway_requests_total{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("deedlog_gateway_request_duration_seconds_bucket{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("deedlog_gateway_rate_limited_total{scope=\"user\"}"),
        "{metrics}"
    );
    assert!(
        metrics.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );
    // Every sample line is `name{labels} value`.
    for line in metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit(' ').next().expect("value");
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    // GraphiQL is served in development, with its files from the gateway.
    let page = get("/graphql").await.text().await.expect("html");
    assert!(page.to_lowercase().contains("graphiql"));
    assert!(
        !page.contains("https://"),
        "GraphiQL loads nothing from elsewhere"
    );
    for asset in &deedlog_gateway::graphiql::ASSETS {
        assert!(page.contains(asset.path), "{}", asset.path);
        let response = get(asset.path).await;
        assert_eq!(response.status().as_u16(), 200, "{}", asset.path);
        assert_eq!(response.headers()["content-type"], asset.content_type);
        assert!(response.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("max-age=31536000"));
        assert_eq!(
            response.bytes().await.expect("body").len(),
            asset.body.len()
        );
    }
}
