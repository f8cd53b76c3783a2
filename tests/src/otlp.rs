//! A real OTLP/gRPC trace receiver (the collector's TraceService, served by
//! tonic on a port of its own) that keeps every span it is sent.

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A span as received, its ids in lowercase hex.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub service_name: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub attributes: BTreeMap<String, String>,
}

/// The receiver: its address and the spans it got so far.
#[derive(Debug, Clone)]
pub struct OtlpReceiver {
    pub addr: SocketAddr,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[derive(Debug, Clone)]
struct Collect(Arc<Mutex<Vec<ReceivedSpan>>>);

#[tonic::async_trait]
impl TraceService for Collect {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut kept = self.0.lock().expect("spans");
        for resource in request.into_inner().resource_spans {
            let service_name = resource
                .resource
                .as_ref()
                .and_then(|r| text_attributes(&r.attributes).remove("service.name"))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    kept.push(ReceivedSpan {
                        service_name: service_name.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        attributes: text_attributes(&span.attributes),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl OtlpReceiver {
    /// Serves on 127.0.0.1 at a free port until the test ends.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP receiver");
        let addr = listener.local_addr().expect("address");
        let spans = Arc::new(Mutex::new(Vec::new()));
        let service = TraceServiceServer::new(Collect(spans.clone()));
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        Self { addr, spans }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span of trace `trace_id` received so far.
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.spans
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

/// One request's spans: the gateway's, the command service's beneath it
/// and the projector's beneath that.
#[derive(Debug, Clone)]
pub struct Chain {
    pub gateway: ReceivedSpan,
    pub command: ReceivedSpan,
    pub projector: Vec<ReceivedSpan>,
}

impl OtlpReceiver {
    /// Waits (up to `within`) until trace `trace_id` holds the gateway's
    /// span, one command span named `rpc` and projector spans of every one
    /// of `projections`; then checks that each is the child of the one
    /// before (the gateway's of `client_span`).
    pub async fn chain(
        &self,
        trace_id: &str,
        client_span: &str,
        rpc: &str,
        projections: &[&str],
        within: std::time::Duration,
    ) -> Chain {
        let deadline = std::time::Instant::now() + within;
        let (gateway, command, projector) = loop {
            let spans = self.trace(trace_id);
            let of = |component: &str| -> Vec<ReceivedSpan> {
                spans
                    .iter()
                    .filter(|s| {
                        s.attributes.get("deedlog.component").map(String::as_str) == Some(component)
                    })
                    .cloned()
                    .collect()
            };
            let gateway = of("gateway");
            let command: Vec<ReceivedSpan> = of("service")
                .into_iter()
                .filter(|s| s.name == rpc)
                .collect();
            let projector = of("projector");
            let reached = projections.iter().all(|p| {
                projector
                    .iter()
                    .any(|s| s.attributes.get("projection").map(String::as_str) == Some(*p))
            });
            if !gateway.is_empty() && !command.is_empty() && reached {
                break (gateway, command, projector);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "trace {trace_id} is incomplete after {within:?}: {spans:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(gateway.len(), 1, "one request: {gateway:#?}");
        assert_eq!(command.len(), 1, "one command: {command:#?}");
        let (gateway, command) = (gateway[0].clone(), command[0].clone());
        assert_eq!(
            gateway.parent_span_id, client_span,
            "the client's span is the parent"
        );
        assert_eq!(command.parent_span_id, gateway.span_id, "{command:#?}");
        for span in &projector {
            assert_eq!(span.parent_span_id, command.span_id, "{span:#?}");
            assert!(span.name.starts_with("project "), "{span:#?}");
        }
        Chain {
            gateway,
            command,
            projector,
        }
    }
}

fn text_attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| {
            let value = match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(s) => s.clone(),
                Value::IntValue(i) => i.to_string(),
                Value::BoolValue(b) => b.to_string(),
                Value::DoubleValue(d) => d.to_string(),
                _ => return None,
            };
            Some((kv.key.clone(), value))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
