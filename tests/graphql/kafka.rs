//! The whole cluster with Kafka as the distribution log, as `deedlog up`
//! runs it when `kafka.brokers` is set: the relay publishes the log to a
//! real Kafka-protocol broker (tansu over TCP) and the projector reads it
//! back as a consumer group member; the gateway still reads its own writes.

use crate::{create_property, CREATE_PROPERTY};
use deedlog_cluster::Component;
use deedlog_runtime::Settings;
use deedlog_tests::otlp::OtlpReceiver;
use deedlog_tests::person::person;
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

/// One raw message of the topic: its key, value and headers as bytes.
struct Raw {
    key: Option<String>,
    value: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Every message of the topic from the beginning, with a plain consumer of
/// its own group, as an outside system would read it: until every position
/// in `positions` was seen (panics after 60 s).
async fn read_topic(
    settings: &deedlog_runtime::settings::KafkaSettings,
    positions: &std::collections::BTreeSet<u64>,
) -> Vec<Raw> {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::{Headers, Message};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("group.id", format!("{}-raw-reader", settings.group_id))
        .set("enable.auto.commit", "false")
        .create()
        .expect("a plain consumer");
    let mut partitions = TopicPartitionList::new();
    for p in 0..settings.partitions as i32 {
        partitions
            .add_partition_offset(&settings.topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&partitions).expect("assign");
    let mut seen = std::collections::BTreeSet::new();
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !positions.is_subset(&seen) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out reading the topic: {} of {} positions seen, first missing {:?}",
                    seen.len(),
                    positions.len(),
                    positions.difference(&seen).next()
                )
            })
            .expect("receive");
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        let raw = Raw {
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            value: message.payload().unwrap_or_default().to_vec(),
            headers,
        };
        if let Some(position) = raw
            .header(deedlog_kafka::format::HEADER_POSITION)
            .and_then(|p| p.parse().ok())
        {
            seen.insert(position);
        }
        read.push(raw);
    }
    read
}

/// Crypto-shredding over Kafka (issue 19, ADR 0035): the relay publishes
/// the events as stored, so the topic carries only sealed envelopes; the
/// Kafka-fed projector opens them through the keyring, and once a contact
/// is forgotten its read-model rows read erased while the other contact's
/// stay in clear. None of either contact's strings is ever in the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_carries_ciphertext_only_and_forgetting_erases_the_kafka_fed_read_models() {
    use deedlog_kernel::privacy::ERASED;
    use deedlog_tests::fixtures::forget_contact;
    use serde_json::json;

    let broker = Broker::start().await;
    let suffix = Uuid::now_v7().simple().to_string();
    let cluster = on_kafka(&broker, &suffix).await;
    let gql = Gql::new(&cluster.url(Component::Gateway));
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let (forgotten, _) = person(&mut c, &admin, "Forgotten").await;
    let (kept, at) = person(&mut c, &admin, "Kept").await;
    cluster.wait_for_read_models(at).await;

    // The Kafka-fed read models opened the envelopes: both contacts in clear.
    const CONTACT: &str = "query($id: UUID!) { contact(id: $id) { name email phone street messages { edges { node { direction subject body } } } } }";
    let read = |id: &str| {
        let (gql, admin, id) = (&gql, &admin, id.to_owned());
        async move { gql.run_as(admin, CONTACT, json!({"id": id})).await.data()["contact"].clone() }
    };
    for p in [&forgotten, &kept] {
        let shown = read(&p.id).await;
        assert_eq!(shown["name"], p.name.as_str(), "{shown}");
        let text = shown.to_string();
        for s in &p.strings {
            assert!(
                text.contains(s.as_str()),
                "the Kafka-fed read model lacks {s:?}: {shown}"
            );
        }
    }

    let forgot = c
        .communications
        .forget_contact(admin.request(forget_contact(&forgotten.id)))
        .await
        .expect("forget")
        .into_inner();
    cluster.wait_for_read_models(forgot.position).await;

    // The whole topic, read raw: every event the log holds is in it.
    let mut db = cluster.database_options().connect().await.expect("db");
    let positions: Vec<i64> = sqlx::query_scalar("SELECT position FROM events")
        .fetch_all(&mut db)
        .await
        .expect("the log's positions");
    let positions = positions.into_iter().map(|p| p as u64).collect();
    let messages = read_topic(&cluster.settings.kafka, &positions).await;
    for m in &messages {
        let value = String::from_utf8_lossy(&m.value);
        for s in forgotten.strings.iter().chain(&kept.strings) {
            assert!(
                !value.contains(s.as_str()),
                "{s:?} in clear in a message value: {value}"
            );
            for (name, header) in &m.headers {
                assert!(
                    !String::from_utf8_lossy(header).contains(s.as_str()),
                    "{s:?} in clear in header {name}"
                );
            }
        }
    }
    // Each event that carries personal data is in the topic, sealed.
    for p in [&forgotten, &kept] {
        for event_type in ["ContactCreated", "MessageQueued", "ReplyReceived"] {
            let of_type: Vec<&Raw> = messages
                .iter()
                .filter(|m| {
                    m.key.as_deref() == Some(p.id.as_str())
                        && m.header(deedlog_kafka::format::HEADER_EVENT_TYPE) == Some(event_type)
                })
                .collect();
            assert!(
                !of_type.is_empty(),
                "no {event_type} of {} in the topic",
                p.id
            );
            for m in of_type {
                let value = String::from_utf8_lossy(&m.value);
                assert!(
                    value.contains("\"$sealed\""),
                    "{event_type} of {} not sealed in the topic: {value}",
                    p.id
                );
            }
        }
    }
    assert!(
        messages
            .iter()
            .any(|m| m.key.as_deref() == Some(forgotten.id.as_str())
                && m.header(deedlog_kafka::format::HEADER_EVENT_TYPE) == Some("ContactForgotten")),
        "the forgetting is in the topic"
    );

    // The Kafka-fed read models: the forgotten contact erased, the other in clear.
    let shown = read(&forgotten.id).await;
    assert_eq!(shown["name"], ERASED, "{shown}");
    assert_eq!(shown["email"], ERASED, "{shown}");
    assert_eq!(shown["phone"], ERASED, "{shown}");
    let texts = shown["messages"]["edges"].as_array().expect("messages");
    assert_eq!(texts.len(), 2, "the email and the reply stay: {shown}");
    for edge in texts {
        assert_eq!(edge["node"]["body"], ERASED, "{shown}");
    }
    let text = shown.to_string();
    for s in &forgotten.strings {
        assert!(!text.contains(s.as_str()), "{s:?} still shown: {shown}");
    }
    let shown = read(&kept.id).await;
    assert_eq!(shown["name"], kept.name.as_str(), "{shown}");
    let text = shown.to_string();
    for s in &kept.strings {
        assert!(
            text.contains(s.as_str()),
            "the other contact lost {s:?}: {shown}"
        );
    }
    // And in the tables themselves, not only through the gateway.
    let (name, email, street): (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT name, email, street FROM rm_communications.contacts WHERE contact_id = $1::uuid",
    )
    .bind(&forgotten.id)
    .fetch_one(&mut db)
    .await
    .expect("the forgotten contact's row");
    assert_eq!(name, ERASED);
    assert_eq!(email.as_deref(), Some(ERASED));
    assert!(
        street.as_deref().is_none_or(|s| s == ERASED),
        "the street is gone: {street:?}"
    );
    cluster.stop().await;
}
