//! The gRPC server every command service runs in: bound first (port 0 works,
//! the real port is reported), then served with health and reflection until
//! the shutdown token fires, when health turns NOT_SERVING and in-flight
//! requests drain.

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::ServingStatus;

/// A bound listener waiting to serve.
#[derive(Debug)]
pub struct BoundServer {
    listener: TcpListener,
    pub local_addr: SocketAddr,
}

impl BoundServer {
    /// Binds `addr`; the port may be 0.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    /// Serves `routes` (the context's service, named `service_name`) with
    /// health and reflection until `shutdown` is cancelled.
    pub async fn serve(
        self,
        service_name: &'static str,
        routes: Routes,
        shutdown: CancellationToken,
    ) -> Result<(), tonic::transport::Error> {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status(service_name, ServingStatus::Serving)
            .await;
        // Reflection lists what this port serves, not every service compiled in.
        let reflection = tonic_reflection::server::Builder::configure()
            .with_service_name(service_name)
            .with_service_name("grpc.health.v1.Health")
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .register_encoded_file_descriptor_set(deedlog_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .expect("the compiled-in descriptor sets are valid");
        let routes = routes.add_service(health).add_service(reflection);
        let drained = async move {
            shutdown.cancelled().await;
            reporter
                .set_service_status(service_name, ServingStatus::NotServing)
                .await;
        };
        tonic::transport::Server::builder()
            .layer(crate::observe::ObserveLayer)
            .add_routes(routes)
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), drained)
            .await
    }
}
