//! Every service checks the token itself: missing, expired, forged,
//! wrong-audience and wrong-algorithm tokens are refused; roles bound what a
//! user may do; another tenant's records do not exist for a user.

use crate::{assert_listing_refused, assert_status};
use chrono::Duration;
use deedlog_proto::properties::v1 as pb;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{bearer, command};
use deedlog_tests::fixtures::{listed_apartment, reactivate};
use deedlog_tests::tokens::{admin_caller, refused_tokens, token, with_algorithm};
use deedlog_tests::{start_connected, start_with_tenant, Clients, Session, TestCluster};
use tonic::Code;

#[tokio::test]
async fn bad_tokens_are_refused_and_nothing_is_written() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let me = admin_caller(&admin);
    // HS256 signed with a guessed secret: the services only accept EdDSA.
    let mut cases = refused_tokens(&cluster.signing, &me);
    cases.push((Some(with_algorithm(&me, "HS256", b"guess")), "EdDSA"));
    for (token, text) in cases {
        let request = match &token {
            Some(token) => bearer(token, listed_apartment()),
            None => tonic::Request::new(listed_apartment()),
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
            listed_apartment(),
        ))
        .await
        .expect("genuine token accepted")
        .into_inner();
    assert_eq!(created.version, 1);
}

#[tokio::test]
async fn viewers_and_auditors_change_nothing() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    for (role, name) in [
        (tenancy::Role::Viewer, "vic"),
        (tenancy::Role::Auditor, "aud"),
    ] {
        let user = c.colleague(&admin, role, name).await;
        assert_listing_refused(
            &mut c,
            &user,
            Code::PermissionDenied,
            "may not change properties",
        )
        .await;
    }
}

#[tokio::test]
async fn another_tenants_property_does_not_exist_for_a_user() {
    let (_cluster, mut c) = start_connected().await;
    let berg = c.register("berg").await;
    let lund = c.register("lund").await;
    let created = c.create_property(&berg, listed_apartment()).await;
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

/// The directory's cache time in these tests: the production default.
const CACHE_MS: u64 = 1000;

/// A cluster whose services cache the tenant directory for `CACHE_MS`, with
/// the berg tenant registered; returns its admin.
async fn start_caching() -> (TestCluster, Clients, Session) {
    let cluster =
        TestCluster::start_with(|f| f.merge(("services.tenant_cache_ttl_ms", CACHE_MS))).await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    (cluster, c, admin)
}

/// Creates properties as `who` until that fails (at most 5 s) and asserts
/// the refusal has `code` and `text` and came `soon()` after the first try.
async fn creating_is_soon_refused(c: &Clients, who: &Session, code: Code, text: &str) {
    let started = std::time::Instant::now();
    let status = loop {
        let mut properties = c.properties.clone();
        match properties
            .create_property(who.request(listed_apartment()))
            .await
        {
            Err(status) => break status,
            Ok(_) if started.elapsed() > std::time::Duration::from_secs(5) => {
                panic!("still accepted 5 s after the change")
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    };
    let after = started.elapsed();
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().contains(text), "{status:?}");
    assert!(after < soon(), "refused only after {after:?}");
}

/// Within the cache time plus a margin for a slow machine.
fn soon() -> std::time::Duration {
    std::time::Duration::from_millis(CACHE_MS + 1500)
}

fn as_of(
    who: &deedlog_tests::Session,
    id: &str,
) -> tonic::Request<deedlog_proto::common::v1::AsOfRequest> {
    who.request(deedlog_proto::common::v1::AsOfRequest {
        record_id: id.to_owned(),
        at_unix_micros: None,
    })
}

#[tokio::test]
async fn a_deactivated_users_unexpired_token_neither_writes_nor_reads() {
    let (_cluster, mut c, admin) = start_caching().await;
    let other = c.colleague(&admin, tenancy::Role::Admin, "ole").await;
    let created = c.create_property(&other, listed_apartment()).await;
    c.properties
        .get_as_of(as_of(&other, &created.record_id))
        .await
        .expect("an active admin reads");
    c.tenancy
        .deactivate_user(admin.request(tenancy::DeactivateUserRequest {
            command: command(),
            user_id: other.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    creating_is_soon_refused(&c, &other, Code::Unauthenticated, "deactivated").await;
    // Reads and tenancy's own calls refuse the token too, at once now.
    assert_status(
        c.properties
            .get_as_of(as_of(&other, &created.record_id))
            .await,
        Code::Unauthenticated,
        "deactivated",
    );
    assert_status(
        c.tenancy
            .get_tenant(other.request(tenancy::GetTenantRequest {}))
            .await,
        Code::Unauthenticated,
        "deactivated",
    );
    assert_status(
        c.tenancy
            .rename_tenant(other.request(tenancy::RenameTenantRequest {
                command: command(),
                name: "Taken over".into(),
            }))
            .await,
        Code::Unauthenticated,
        "deactivated",
    );
    // The deactivated admin wrote nothing after the first property.
    let tenant = c
        .tenancy
        .get_tenant(admin.request(tenancy::GetTenantRequest {}))
        .await
        .expect("the remaining admin reads")
        .into_inner();
    assert_ne!(tenant.name, "Taken over");
}

#[tokio::test]
async fn a_manager_demoted_to_viewer_no_longer_writes_with_the_old_token() {
    let (_cluster, mut c, admin) = start_caching().await;
    let manager = c.colleague(&admin, tenancy::Role::Manager, "mia").await;
    c.properties
        .create_property(manager.request(listed_apartment()))
        .await
        .expect("a manager writes");
    c.tenancy
        .change_role(admin.request(tenancy::ChangeRoleRequest {
            command: command(),
            user_id: manager.user_id.clone(),
            role: tenancy::Role::Viewer.into(),
        }))
        .await
        .expect("demote");
    creating_is_soon_refused(&c, &manager, Code::PermissionDenied, "a viewer may not").await;
    // Tenancy takes the current role too: a viewer invites nobody.
    assert_status(
        c.tenancy
            .invite_user(manager.request(tenancy::InviteUserRequest {
                command: command(),
                email: "eve@berg.example".into(),
                display_name: "Eve".into(),
                role: tenancy::Role::Agent.into(),
            }))
            .await,
        Code::PermissionDenied,
        "a viewer may not invite users",
    );
    // Still a user of the tenant: reading it works.
    c.tenancy
        .get_tenant(manager.request(tenancy::GetTenantRequest {}))
        .await
        .expect("a viewer reads the tenant");
}

#[tokio::test]
async fn a_suspended_tenants_agent_is_refused_and_its_admins_and_auditors_still_read() {
    let (_cluster, mut c, admin) = start_caching().await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ada").await;
    let auditor = c.colleague(&admin, tenancy::Role::Auditor, "aud").await;
    let created = c.create_property(&agent, listed_apartment()).await;
    c.tenancy
        .get_tenant(agent.request(tenancy::GetTenantRequest {}))
        .await
        .expect("an agent reads the tenant");
    c.suspend(&admin).await;
    creating_is_soon_refused(
        &c,
        &agent,
        Code::FailedPrecondition,
        "only its admins and auditors",
    )
    .await;
    // Tenancy reads the roster live: its reads are refused too.
    assert_status(
        c.tenancy
            .get_tenant(agent.request(tenancy::GetTenantRequest {}))
            .await,
        Code::FailedPrecondition,
        "suspended",
    );
    for who in [&admin, &auditor] {
        c.properties
            .get_as_of(as_of(who, &created.record_id))
            .await
            .expect("admins and auditors read a suspended tenant's history");
        c.tenancy
            .get_tenant(who.request(tenancy::GetTenantRequest {}))
            .await
            .expect("admins and auditors read a suspended tenant");
    }
    c.tenancy
        .reactivate_tenant(admin.request(reactivate(&admin.tenant_id)))
        .await
        .expect("an admin reactivates the suspended tenant");
}
