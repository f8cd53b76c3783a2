//! Small contract points of the gRPC surface: oversized requests and the
//! authorization scheme's case.

use crate::assert_status;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::command;
use deedlog_tests::{start_with_tenant, LogCounts};
use tonic::Code;

#[tokio::test]
async fn an_oversized_request_is_resource_exhausted_and_stores_nothing() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let before = LogCounts::of(&cluster).await;
    let huge = pb::RenameTenantRequest {
        command: command(),
        name: "x".repeat(5 * 1024 * 1024),
    };
    assert_status(
        c.tenancy.rename_tenant(admin.request(huge)).await,
        Code::ResourceExhausted,
        "larger than 4 MiB",
    );
    assert_eq!(LogCounts::of(&cluster).await, before);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let mut request = tonic::Request::new(pb::GetTenantRequest {});
        request.metadata_mut().insert(
            "authorization",
            format!("{scheme} {}", admin.access)
                .parse()
                .expect("header"),
        );
        c.tenancy.get_tenant(request).await.expect(scheme);
    }
    let mut basic = tonic::Request::new(pb::GetTenantRequest {});
    basic.metadata_mut().insert(
        "authorization",
        format!("Basic {}", admin.access).parse().expect("header"),
    );
    assert_status(c.tenancy.get_tenant(basic).await, Code::Unauthenticated, "");
}
