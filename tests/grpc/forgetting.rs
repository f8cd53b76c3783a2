//! Forgetting a person over gRPC (right to erasure, ADR 0035): a contact by
//! an admin or a manager, a deactivated user by an admin; who may not, other
//! tenants' records, and what a forgotten contact or user still answers.

use crate::{assert_status, error_info};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::{command, PASSWORD};
use deedlog_tests::fixtures::{clara_voss, consent, email, forget_contact, forget_user};
use deedlog_tests::{start_with_tenant, Clients, LogCounts, Session, TestCluster};
use tonic::Code;

/// Forgets `contact` as `who`.
async fn forget(
    c: &mut Clients,
    who: &Session,
    contact: &str,
) -> Result<deedlog_proto::common::v1::CommandReply, tonic::Status> {
    c.communications
        .forget_contact(who.request(forget_contact(contact)))
        .await
        .map(tonic::Response::into_inner)
}

/// Asserts that `result` was refused as `code` and appended nothing to the log.
async fn refused_without_a_trace<T: std::fmt::Debug>(
    cluster: &TestCluster,
    before: LogCounts,
    result: Result<T, tonic::Status>,
    code: Code,
    text: &str,
) -> tonic::Status {
    let status = assert_status(result, code, text);
    assert_eq!(LogCounts::of(cluster).await, before, "nothing appended");
    status
}

#[tokio::test]
async fn admins_and_managers_forget_contacts_and_nobody_else_may() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let manager = c.colleague(&admin, pb::Role::Manager, "mara").await;
    let agent = c.colleague(&admin, pb::Role::Agent, "ben").await;
    let viewer = c.colleague(&admin, pb::Role::Viewer, "vic").await;
    let clara = c.contact_with(&admin, clara_voss()).await;
    for who in [&agent, &viewer] {
        let before = LogCounts::of(&cluster).await;
        refused_without_a_trace(
            &cluster,
            before,
            forget(&mut c, who, &clara).await,
            Code::PermissionDenied,
            "may not forget contacts",
        )
        .await;
    }
    let before = LogCounts::of(&cluster).await;
    let reply = forget(&mut c, &admin, &clara)
        .await
        .expect("an admin forgets");
    assert_eq!(before.appended_since(&cluster).await, ["ContactForgotten"]);
    assert_eq!(reply.record_id, clara);
    let (event_type, stream) = LogCounts::event_at(&cluster, reply.position).await;
    assert_eq!(event_type, "ContactForgotten");
    assert_eq!(stream.to_string(), clara);

    let mia = c.contact(&manager, "Mia Berg").await;
    forget(&mut c, &manager, &mia)
        .await
        .expect("a manager forgets");
}

#[tokio::test]
async fn another_tenants_contact_is_not_found() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let clara = c.contact_with(&admin, clara_voss()).await;
    let other = c.register("other").await;
    let before = LogCounts::of(&cluster).await;
    refused_without_a_trace(
        &cluster,
        before,
        forget(&mut c, &other, &clara).await,
        Code::NotFound,
        "",
    )
    .await;
    let before = LogCounts::of(&cluster).await;
    refused_without_a_trace(
        &cluster,
        before,
        forget(&mut c, &admin, &uuid::Uuid::now_v7().to_string()).await,
        Code::NotFound,
        "",
    )
    .await;
}

#[tokio::test]
async fn a_forgotten_contact_takes_no_more_commands() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let clara = c.contact_with(&admin, clara_voss()).await;
    c.communications
        .grant_consent(admin.request(consent(&clara, comms::Channel::Email)))
        .await
        .expect("consent");
    c.communications
        .send_message(admin.request(email(&clara, "Viewing", "Friday at 10:00.")))
        .await
        .expect("sent before forgetting");
    forget(&mut c, &admin, &clara).await.expect("forgotten");

    let before = LogCounts::of(&cluster).await;
    let status = refused_without_a_trace(
        &cluster,
        before,
        c.communications
            .send_message(admin.request(email(&clara, "Viewing", "Saturday?")))
            .await,
        Code::FailedPrecondition,
        "was forgotten (right to erasure); it takes no more commands",
    )
    .await;
    assert_eq!(error_info(&status).0, "CONTACT_FORGOTTEN");
    let status = refused_without_a_trace(
        &cluster,
        before,
        forget(&mut c, &admin, &clara).await,
        Code::FailedPrecondition,
        "was forgotten",
    )
    .await;
    assert_eq!(error_info(&status).0, "CONTACT_FORGOTTEN");
    let status = refused_without_a_trace(
        &cluster,
        before,
        c.communications
            .record_reply(admin.request(comms::RecordReplyRequest {
                command: command(),
                contact_id: clara.clone(),
                channel: comms::Channel::Email.into(),
                body: "Still interested.".into(),
                provider_event_id: "late-reply".into(),
                ..Default::default()
            }))
            .await,
        Code::FailedPrecondition,
        "was forgotten",
    )
    .await;
    assert_eq!(error_info(&status).0, "CONTACT_FORGOTTEN");
}

#[tokio::test]
async fn only_a_deactivated_user_is_forgotten_by_an_admin_and_never_signs_in_again() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let manager = c.colleague(&admin, pb::Role::Manager, "mara").await;
    let ben = c.colleague(&admin, pb::Role::Agent, "ben").await;
    let other = c.register("other").await;

    let before = LogCounts::of(&cluster).await;
    let status = refused_without_a_trace(
        &cluster,
        before,
        c.tenancy
            .forget_user(admin.request(forget_user(&ben.user_id)))
            .await,
        Code::FailedPrecondition,
        "deactivate them before forgetting them",
    )
    .await;
    let (reason, details) = error_info(&status);
    assert_eq!(reason, "USER_NOT_DEACTIVATED");
    assert_eq!(details["userId"], ben.user_id);

    c.tenancy
        .deactivate_user(admin.request(pb::DeactivateUserRequest {
            command: command(),
            user_id: ben.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    let before = LogCounts::of(&cluster).await;
    refused_without_a_trace(
        &cluster,
        before,
        c.tenancy
            .forget_user(manager.request(forget_user(&ben.user_id)))
            .await,
        Code::PermissionDenied,
        "may not forget users",
    )
    .await;
    refused_without_a_trace(
        &cluster,
        before,
        c.tenancy
            .forget_user(other.request(forget_user(&ben.user_id)))
            .await,
        Code::NotFound,
        "",
    )
    .await;

    c.tenancy
        .forget_user(admin.request(forget_user(&ben.user_id)))
        .await
        .expect("forget the deactivated user");
    assert_eq!(before.appended_since(&cluster).await, ["UserForgotten"]);
    let forgotten = c
        .tenancy
        .get_user(admin.request(pb::GetUserRequest {
            user_id: ben.user_id.clone(),
        }))
        .await
        .expect("the user")
        .into_inner();
    assert_eq!(forgotten.email, deedlog_kernel::privacy::ERASED);
    assert_eq!(forgotten.display_name, deedlog_kernel::privacy::ERASED);
    assert_eq!(forgotten.status(), pb::UserStatus::Deactivated);

    let before = LogCounts::of(&cluster).await;
    let status = refused_without_a_trace(
        &cluster,
        before,
        c.tenancy
            .forget_user(admin.request(forget_user(&ben.user_id)))
            .await,
        Code::FailedPrecondition,
        "was forgotten",
    )
    .await;
    assert_eq!(error_info(&status).0, "USER_FORGOTTEN");

    // Neither their old address nor the erased marker signs anyone in.
    for address in [ben.email.as_str(), deedlog_kernel::privacy::ERASED] {
        assert_status(
            c.login("berg", address, PASSWORD).await,
            Code::Unauthenticated,
            "wrong tenant, email or password",
        );
    }
    // The old address is free for a new user, who signs in with it; the
    // roster still lists the forgotten user, deactivated.
    let again = c.colleague(&admin, pb::Role::Agent, "ben").await;
    assert_ne!(again.user_id, ben.user_id);
    let tenant = c
        .tenancy
        .get_tenant(admin.request(pb::GetTenantRequest {}))
        .await
        .expect("the tenant")
        .into_inner();
    let listed = tenant
        .members
        .iter()
        .find(|m| m.user_id == ben.user_id)
        .expect("the forgotten user is on the roster");
    assert_eq!(listed.status(), pb::UserStatus::Deactivated);
}
