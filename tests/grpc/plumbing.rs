//! What every server offers besides its API: health, reflection, the trace
//! context of a request carried into the metadata of the events it caused,
//! and who and why recorded with each event.

use deedlog_cluster::Component;
use deedlog_tests::fixtures::listed_apartment;
use deedlog_tests::{start_with_tenant, TestCluster};
use sqlx::{ConnectOptions, Row};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

async fn channel(cluster: &TestCluster, component: Component) -> Channel {
    Channel::from_shared(cluster.url(component))
        .expect("url")
        .connect()
        .await
        .expect("connect")
}

#[tokio::test]
async fn every_service_reports_health_and_lists_itself_by_reflection() {
    let cluster = TestCluster::start().await;
    for (component, service) in [
        (Component::Tenancy, "deedlog.tenancy.v1.TenancyService"),
        (
            Component::Properties,
            "deedlog.properties.v1.PropertiesService",
        ),
        (Component::Deals, "deedlog.deals.v1.DealsService"),
        (
            Component::Communications,
            "deedlog.communications.v1.CommunicationsService",
        ),
    ] {
        let channel = channel(&cluster, component).await;
        let health = HealthClient::new(channel.clone())
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(health.status(), ServingStatus::Serving, "{service}");
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut replies = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream_once(request))
            .await
            .expect("reflection")
            .into_inner();
        let reply = replies.message().await.expect("reply").expect("one reply");
        let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
            panic!("expected a service list, got {reply:?}");
        };
        let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        names.sort();
        // What this port serves, and nothing it does not.
        let mut served = vec![
            service.to_owned(),
            "grpc.health.v1.Health".to_owned(),
            "grpc.reflection.v1.ServerReflection".to_owned(),
        ];
        served.sort();
        assert_eq!(names, served);
    }
}

fn tokio_stream_once<T: Send + 'static>(
    item: T,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::iter([item])
}

#[tokio::test]
async fn a_requests_trace_context_and_its_caller_are_recorded_with_its_events() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut request = admin.request(listed_apartment());
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().expect("ascii"));
    request
        .metadata_mut()
        .insert("tracestate", "vendor=abc".parse().expect("ascii"));
    let created = c
        .properties
        .create_property(request)
        .await
        .expect("create")
        .into_inner();
    let mut conn = cluster.database_options().connect().await.expect("connect");
    let row = sqlx::query(
        "SELECT traceparent, tracestate, actor, event_type FROM events WHERE stream_id = $1::uuid",
    )
    .bind(&created.record_id)
    .fetch_one(&mut conn)
    .await
    .expect("the event");
    assert_eq!(
        row.get::<Option<String>, _>("traceparent").as_deref(),
        Some(traceparent)
    );
    assert_eq!(
        row.get::<Option<String>, _>("tracestate").as_deref(),
        Some("vendor=abc")
    );
    assert_eq!(
        row.get::<String, _>("actor"),
        format!("user:{}", admin.user_id)
    );
    assert_eq!(row.get::<String, _>("event_type"), "PropertyCreated");
}
