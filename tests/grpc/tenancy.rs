//! Tenancy over gRPC: registration, login and tokens, invitations, roles,
//! deactivation, lock-out, idempotency and bad arguments.

use crate::{assert_status, violated_field};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::{command, command_with, PASSWORD};
use deedlog_tests::{Clients, TestCluster};
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn a_registered_admin_signs_in_and_reads_their_tenant() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let tenant = c
        .tenancy
        .get_tenant(admin.request(pb::GetTenantRequest {}))
        .await
        .expect("tenant")
        .into_inner();
    assert_eq!(tenant.slug, "berg");
    assert!(!tenant.suspended);
    assert_eq!(tenant.modules.len(), 4, "every module starts on");
    assert_eq!(tenant.cadence_limit, 3);
    let me = c
        .tenancy
        .get_user(admin.request(pb::GetUserRequest {
            user_id: admin.user_id.clone(),
        }))
        .await
        .expect("user")
        .into_inner();
    assert_eq!(me.role(), pb::Role::Admin);
    assert_eq!(me.status(), pb::UserStatus::Active);
    let keys = c
        .tenancy
        .get_signing_keys(pb::GetSigningKeysRequest {})
        .await
        .expect("keys")
        .into_inner();
    assert_eq!(keys.algorithm, "EdDSA");
    assert!(keys.keys.iter().any(|k| k.kid == "test-key"));
}

#[tokio::test]
async fn registration_is_idempotent_and_slugs_are_unique() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let id = Uuid::now_v7();
    let request = |slug: &str, id: Uuid| pb::RegisterTenantRequest {
        command: command_with(id, None),
        name: "Berg".into(),
        slug: slug.into(),
        admin_email: "anna@berg.example".into(),
        admin_display_name: "Anna Berg".into(),
        admin_password: PASSWORD.into(),
    };
    let first = c
        .tenancy
        .register_tenant(request("berg", id))
        .await
        .expect("first")
        .into_inner();
    let again = c
        .tenancy
        .register_tenant(request("berg", id))
        .await
        .expect("repeat")
        .into_inner();
    assert_eq!(first.tenant_id, again.tenant_id);
    let (a, b) = (first.reply.expect("reply"), again.reply.expect("reply"));
    assert!(!a.duplicate && b.duplicate, "{a:?} {b:?}");
    assert_eq!((a.version, a.position), (b.version, b.position));
    assert_status(
        c.tenancy
            .register_tenant(request("berg", Uuid::now_v7()))
            .await,
        Code::FailedPrecondition,
        "slug \"berg\" is taken",
    );
}

#[tokio::test]
async fn bad_registrations_name_the_field() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let base = pb::RegisterTenantRequest {
        command: command(),
        name: "Berg".into(),
        slug: "berg".into(),
        admin_email: "anna@berg.example".into(),
        admin_display_name: "Anna".into(),
        admin_password: PASSWORD.into(),
    };
    for (request, field) in [
        (
            pb::RegisterTenantRequest {
                slug: "Berg!".into(),
                ..base.clone()
            },
            "slug",
        ),
        (
            pb::RegisterTenantRequest {
                admin_password: "short".into(),
                ..base.clone()
            },
            "admin_password",
        ),
        (
            pb::RegisterTenantRequest {
                admin_email: "nope".into(),
                ..base.clone()
            },
            "email",
        ),
        (
            pb::RegisterTenantRequest {
                command: None,
                ..base.clone()
            },
            "command.command_id",
        ),
    ] {
        let status = assert_status(
            c.tenancy.register_tenant(request).await,
            Code::InvalidArgument,
            "",
        );
        assert_eq!(violated_field(&status), field, "{status:?}");
    }
    // Nothing was registered by the refused attempts.
    assert_status(
        c.login("berg", "anna@berg.example", PASSWORD).await,
        Code::Unauthenticated,
        "wrong",
    );
}

#[tokio::test]
async fn invited_users_accept_sign_in_and_deactivation_revokes_refresh_tokens() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let agent = c.colleague(&admin, pb::Role::Agent, "ben").await;
    // Refresh rotates: the new token works, the old one no longer does.
    let pair = c
        .tenancy
        .refresh(pb::RefreshRequest {
            refresh_token: agent.refresh.clone(),
        })
        .await
        .expect("refresh")
        .into_inner();
    assert_eq!(pair.role(), pb::Role::Agent);
    assert_status(
        c.tenancy
            .refresh(pb::RefreshRequest {
                refresh_token: agent.refresh.clone(),
            })
            .await,
        Code::Unauthenticated,
        "already used",
    );
    c.tenancy
        .deactivate_user(admin.request(pb::DeactivateUserRequest {
            command: command(),
            user_id: agent.user_id.clone(),
        }))
        .await
        .expect("deactivate");
    assert_status(
        c.tenancy
            .refresh(pb::RefreshRequest {
                refresh_token: pair.refresh_token,
            })
            .await,
        Code::Unauthenticated,
        "not valid",
    );
    assert_status(
        c.login("berg", &agent.email, PASSWORD).await,
        Code::Unauthenticated,
        "",
    );
}

#[tokio::test]
async fn the_last_active_admin_stays_and_managers_grant_only_agent_and_viewer() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    assert_status(
        c.tenancy
            .deactivate_user(admin.request(pb::DeactivateUserRequest {
                command: command(),
                user_id: admin.user_id.clone(),
            }))
            .await,
        Code::FailedPrecondition,
        "at least one active admin",
    );
    let manager = c.colleague(&admin, pb::Role::Manager, "mia").await;
    assert_status(
        c.tenancy
            .invite_user(manager.request(pb::InviteUserRequest {
                command: command(),
                email: "eve@berg.example".into(),
                display_name: "Eve".into(),
                role: pb::Role::Admin.into(),
            }))
            .await,
        Code::FailedPrecondition,
        "may not give the admin role",
    );
    let viewer = c.colleague(&manager, pb::Role::Viewer, "vic").await;
    assert_status(
        c.tenancy
            .set_module(viewer.request(pb::SetModuleRequest {
                command: command(),
                module: pb::Module::Deals.into(),
                enabled: false,
            }))
            .await,
        Code::PermissionDenied,
        "viewer may not",
    );
}

#[tokio::test]
async fn five_failed_logins_lock_the_user_out() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    for _ in 0..4 {
        assert_status(
            c.login("berg", &admin.email, "wrong password!").await,
            Code::Unauthenticated,
            "wrong",
        );
    }
    assert_status(
        c.login("berg", &admin.email, "wrong password!").await,
        Code::Unauthenticated,
        "locked until",
    );
    assert_status(
        c.login("berg", &admin.email, PASSWORD).await,
        Code::Unauthenticated,
        "locked until",
    );
}

#[tokio::test]
async fn an_admin_renames_sets_communication_settings_and_changes_roles() {
    let cluster = TestCluster::start().await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let agent = c.colleague(&admin, pb::Role::Agent, "ben").await;
    c.tenancy
        .rename_tenant(admin.request(pb::RenameTenantRequest {
            command: command(),
            name: "Berg & Lund".into(),
        }))
        .await
        .expect("rename");
    c.tenancy
        .set_communication_settings(admin.request(pb::SetCommunicationSettingsRequest {
            command: command(),
            time_zone: "Europe/Berlin".into(),
            cadence_limit: 5,
            cadence_window_days: 14,
        }))
        .await
        .expect("settings");
    let status = assert_status(
        c.tenancy
            .set_communication_settings(admin.request(pb::SetCommunicationSettingsRequest {
                command: command(),
                time_zone: "Mars/Olympus".into(),
                cadence_limit: 5,
                cadence_window_days: 14,
            }))
            .await,
        Code::InvalidArgument,
        "",
    );
    assert_eq!(violated_field(&status), "time_zone");
    c.tenancy
        .change_role(admin.request(pb::ChangeRoleRequest {
            command: command(),
            user_id: agent.user_id.clone(),
            role: pb::Role::Manager.into(),
        }))
        .await
        .expect("promote");
    let tenant = c
        .tenancy
        .get_tenant(agent.request(pb::GetTenantRequest {}))
        .await
        .expect("tenant")
        .into_inner();
    assert_eq!(
        (
            tenant.name.as_str(),
            tenant.time_zone.as_str(),
            tenant.cadence_limit
        ),
        ("Berg & Lund", "Europe/Berlin", 5)
    );
    let promoted = c
        .tenancy
        .get_user(admin.request(pb::GetUserRequest {
            user_id: agent.user_id.clone(),
        }))
        .await
        .expect("user")
        .into_inner();
    assert_eq!(promoted.role(), pb::Role::Manager);
    // Logging out revokes the refresh token.
    c.tenancy
        .logout(pb::LogoutRequest {
            refresh_token: agent.refresh.clone(),
        })
        .await
        .expect("logout");
    assert_status(
        c.tenancy
            .refresh(pb::RefreshRequest {
                refresh_token: agent.refresh,
            })
            .await,
        Code::Unauthenticated,
        "not valid",
    );
}
