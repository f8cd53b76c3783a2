//! Every service checks the token itself: missing, expired, forged,
//! wrong-audience and wrong-algorithm tokens are refused; roles bound what a
//! user may do; another tenant's records do not exist for a user.

use crate::assert_status;
use crate::properties::new_property;
use chrono::{Duration, Utc};
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_runtime::auth::KeyPair;
use deedlog_tests::clients::{bearer, command};
use deedlog_tests::tokens::{admin_caller, token};
use deedlog_tests::{Clients, TestCluster};
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn bad_tokens_are_refused_and_nothing_is_written() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let me = admin_caller(&admin);
    let forger = KeyPair::generate(Some("test-key".into())).expect("key");
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("test-key".into());
        let claims = serde_json::json!({
            "sub": me.user, "tid": me.tenant, "role": "admin", "purpose": "access",
            "iss": "deedlog", "aud": "deedlog", "iat": Utc::now().timestamp(),
            "exp": (Utc::now() + Duration::minutes(5)).timestamp(), "jti": Uuid::now_v7(),
        });
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"guess"),
        )
        .expect("hs256 token")
    };
    let cases = [
        (None, "no bearer token"),
        (Some("not-a-jwt".to_owned()), "malformed"),
        (
            Some(token(
                &cluster.signing,
                "deedlog",
                &me,
                Duration::minutes(-5),
            )),
            "expired",
        ),
        (
            Some(token(&forger, "deedlog", &me, Duration::minutes(5))),
            "signature",
        ),
        (
            Some(token(
                &cluster.signing,
                "another-app",
                &me,
                Duration::minutes(5),
            )),
            "audience",
        ),
        (Some(hs256), "EdDSA"),
    ];
    for (token, text) in cases {
        let request = match &token {
            Some(token) => bearer(token, new_property()),
            None => tonic::Request::new(new_property()),
        };
        assert_status(
            c.properties.create_property(request).await,
            Code::Unauthenticated,
            text,
        );
    }
    // The genuine token works and is the first write of this tenant's properties.
    let created = c
        .properties
        .create_property(bearer(
            &token(&cluster.signing, "deedlog", &me, Duration::minutes(5)),
            new_property(),
        ))
        .await
        .expect("genuine token accepted")
        .into_inner();
    assert_eq!(created.version, 1);
}

#[tokio::test]
async fn viewers_and_auditors_change_nothing() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    for (role, name) in [
        (tenancy::Role::Viewer, "vic"),
        (tenancy::Role::Auditor, "aud"),
    ] {
        let user = c.colleague(&admin, role, name).await;
        assert_status(
            c.properties
                .create_property(user.request(new_property()))
                .await,
            Code::PermissionDenied,
            "may not change properties",
        );
    }
}

#[tokio::test]
async fn another_tenants_property_does_not_exist_for_a_user() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let berg = c.register("berg").await;
    let lund = c.register("lund").await;
    let created = c
        .properties
        .create_property(berg.request(new_property()))
        .await
        .expect("create")
        .into_inner();
    assert_status(
        c.properties
            .add_tag(lund.request(pb::TagRequest {
                command: command(),
                property_id: created.record_id.clone(),
                tag: "stolen".into(),
            }))
            .await,
        Code::NotFound,
        "",
    );
}
