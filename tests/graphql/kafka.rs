//! The whole cluster with Kafka as the distribution log, as `deedlog up`
//! runs it when `kafka.brokers` is set: the relay publishes the log to a
//! real Kafka-protocol broker (tansu over TCP) and the projector reads it
//! back as a consumer group member; the gateway still reads its own writes.

use crate::{create_property, CREATE_PROPERTY};
use deedlog_cluster::Component;
use deedlog_runtime::Settings;
use deedlog_tests::otlp::OtlpReceiver;
use deedlog_tests::{Broker, Clients, Gql, TestCluster};
use sqlx::ConnectOptions;
use std::time::Duration;
use uuid::Uuid;

/// The whole cluster plus the relay, its projector fed from Kafka (topic
/// and group of this test's own).
async fn on_kafka(broker: &Broker, suffix: &str) -> TestCluster {
    let mut components = Component::ALL.to_vec();
    components.push(Component::Relay);
    TestCluster::start_components_with(&components, |f| {
        f.merge(("kafka.brokers", broker.brokers()))
            .merge(("kafka.topic", format!("deedlog.e2e.{suffix}")))
            .merge(("kafka.group_id", format!("deedlog-e2e-{suffix}")))
            .merge(("kafka.partitions", 3))
            .merge(("kafka.relay_metrics_listen", "127.0.0.1:0"))
            .merge(("projector.source", "kafka"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_on_kafka_reads_its_own_writes_through_the_gateway() {
    let broker = Broker::start().await;
    let suffix = Uuid::now_v7().simple().to_string();
    let cluster = on_kafka(&broker, &suffix).await;
    let gql = Gql::new(&cluster.url(Component::Gateway));
    let mut clients = Clients::connect(&cluster).await;
    let berg = clients.register("berg").await;

    // The mutation's `property` waits for the read model: built from Kafka.
    let created = create_property(&gql, &berg.access, "Berlin", 45_000_000).await;
    assert_eq!(created["property"]["city"], "Berlin", "{created}");
    assert_eq!(
        created["property"]["askingPriceMinor"], "45000000",
        "{created}"
    );

    let mut db = cluster.database_options().connect().await.expect("db");
    let partitions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_properties.source_offsets WHERE topic = $1")
            .bind(format!("deedlog.e2e.{suffix}"))
            .fetch_one(&mut db)
            .await
            .expect("offsets");
    assert_eq!(
        partitions, 3,
        "every partition's offset is kept in the read model"
    );
    let position: i64 = created["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("a position as a string of digits");
    // The relay stores its acknowledged position on a tick
    // (`kafka.progress_interval_ms`), so a consumer may apply an event
    // before the relay has recorded it: wait for the record.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let published: Option<i64> = sqlx::query_scalar("SELECT position FROM relay_progress")
            .fetch_optional(&mut db)
            .await
            .expect("relay progress");
        if published.is_some_and(|p| p >= position) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the relay stored its progress within 10 s: {published:?} < {position}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cluster.stop().await;
}

/// A traced mutation stays one trace across the relay and Kafka: the
/// Kafka-fed projector's spans are children of the command's span (its
/// context travels in the message headers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_is_one_trace_through_kafka() {
    let receiver = OtlpReceiver::start().await;
    let mut settings = Settings::load(None, &Default::default()).expect("defaults");
    settings.telemetry.otlp_endpoint = receiver.endpoint();
    settings.telemetry.export_interval_ms = 100;
    let telemetry =
        deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry).expect("telemetry");
    let broker = Broker::start().await;
    let suffix = Uuid::now_v7().simple().to_string();
    let cluster = on_kafka(&broker, &suffix).await;
    let mut clients = Clients::connect(&cluster).await;
    let berg = clients.register("berg").await;

    let (trace, client_span) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/graphql", cluster.url(Component::Gateway)))
        .bearer_auth(&berg.access)
        .header("traceparent", format!("00-{trace}-{client_span}-01"))
        .json(&serde_json::json!({
            "query": CREATE_PROPERTY,
            "variables": {"key": Uuid::now_v7(), "city": "Berlin", "price": 45_000_000},
        }))
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        answer["data"]["createProperty"]["property"]["city"], "Berlin",
        "{answer}"
    );
    let chain = receiver
        .chain(
            trace,
            client_span,
            "deedlog.properties.v1.PropertiesService/CreateProperty",
            &["properties", "timeline"],
            Duration::from_secs(20),
        )
        .await;
    assert!(!chain.projector.is_empty());
    cluster.stop().await;
    telemetry.shutdown().await;
}
