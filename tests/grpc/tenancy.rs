//! Tenancy over gRPC: registration, login and tokens, invitations, roles,
//! deactivation, lock-out, idempotency and bad arguments.

use crate::{assert_invalid_field, assert_status};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::{command, command_with, PASSWORD};
use deedlog_tests::fixtures::{berg_registration, refresh, set_module};
use deedlog_tests::{start_connected, start_with_tenant, Clients, LogCounts, Session, TestCluster};
use tonic::Code;
use uuid::Uuid;

const WRONG_LOGIN: &str = "wrong tenant, email or password";

/// The user `user_id` as `by` sees them.
async fn user(c: &mut Clients, by: &Session, user_id: &str) -> pb::User {
    let request = pb::GetUserRequest {
        user_id: user_id.to_owned(),
    };
    c.tenancy
        .get_user(by.request(request))
        .await
        .expect("user")
        .into_inner()
}

#[tokio::test]
async fn a_registered_admin_signs_in_and_reads_their_tenant() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
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
    let me = user(&mut c, &admin, &admin.user_id).await;
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
    let (_cluster, mut c) = start_connected().await;
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
    let (_cluster, mut c) = start_connected().await;
    let base = berg_registration();
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
            "admin_email",
        ),
        (
            pb::RegisterTenantRequest {
                command: None,
                ..base.clone()
            },
            "command.command_id",
        ),
    ] {
        assert_invalid_field(c.tenancy.register_tenant(request).await, "", field);
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
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let agent = c.colleague(&admin, pb::Role::Agent, "ben").await;
    // Refresh rotates: the new token works, the old one no longer does.
    let pair = c.rotate(&agent.refresh).await;
    assert_eq!(pair.role(), pb::Role::Agent);
    assert_status(
        c.tenancy.refresh(refresh(&agent.refresh)).await,
        Code::Unauthenticated,
        "already used",
    );
    // That reuse revoked the whole sign-in; a new sign-in holds a live token.
    assert_status(
        c.tenancy.refresh(refresh(&pair.refresh_token)).await,
        Code::Unauthenticated,
        "not valid",
    );
    let again = c
        .login("berg", &agent.email, PASSWORD)
        .await
        .expect("signs in again");
    // Deactivation and the revocation of the user's tokens are one
    // transaction: no instant in which a deactivated user could refresh.
    let before = LogCounts::of(&cluster).await;
    let deactivate = pb::DeactivateUserRequest {
        command: command(),
        user_id: agent.user_id.clone(),
    };
    let reply = c
        .tenancy
        .deactivate_user(admin.request(deactivate.clone()))
        .await
        .expect("deactivate")
        .into_inner();
    let appended = before.appended_with_transactions_since(&cluster).await;
    let types: Vec<&str> = appended.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(types, ["UserDeactivated", "AllRefreshTokensRevoked"]);
    assert_eq!(appended[0].1, appended[1].1, "one transaction");
    assert_eq!(
        i64::try_from(reply.position).expect("a position"),
        appended[1].2,
        "the reply's position is the last event's"
    );
    let repeat = c
        .tenancy
        .deactivate_user(admin.request(deactivate))
        .await
        .expect("a repeat")
        .into_inner();
    assert!(repeat.duplicate);
    assert_eq!(repeat.position, reply.position);
    assert_status(
        c.tenancy.refresh(refresh(&again.refresh)).await,
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
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
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
            .set_module(viewer.request(set_module(pb::Module::Deals, false)))
            .await,
        Code::PermissionDenied,
        "viewer may not",
    );
}

#[tokio::test]
async fn five_failed_logins_lock_the_user_out_and_a_locked_account_answers_like_a_wrong_password() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let wrong = assert_status(
        c.login("berg", &admin.email, "wrong password!").await,
        Code::Unauthenticated,
        WRONG_LOGIN,
    );
    assert_eq!(wrong.message(), WRONG_LOGIN);
    // The fifth failure locks the account: its answer tells nothing more.
    for _ in 0..4 {
        let status = assert_status(
            c.login("berg", &admin.email, "wrong password!").await,
            Code::Unauthenticated,
            WRONG_LOGIN,
        );
        assert_eq!(status.message(), WRONG_LOGIN);
    }
    // Locked: even the right password gets the answer of a wrong one.
    let locked = assert_status(
        c.login("berg", &admin.email, PASSWORD).await,
        Code::Unauthenticated,
        WRONG_LOGIN,
    );
    assert_eq!(locked.message(), WRONG_LOGIN);
    for (slug, email) in [
        ("berg", "nobody@berg.example"),
        ("nowhere", admin.email.as_str()),
    ] {
        let unknown = assert_status(
            c.login(slug, email, PASSWORD).await,
            Code::Unauthenticated,
            WRONG_LOGIN,
        );
        assert_eq!(unknown.message(), WRONG_LOGIN);
    }
}

/// The median of `tries` timed calls of `login`.
async fn median_login_time(
    c: &mut Clients,
    tries: usize,
    slug: &str,
    email: &str,
) -> std::time::Duration {
    let mut times = Vec::with_capacity(tries);
    for _ in 0..tries {
        let started = std::time::Instant::now();
        assert_status(
            c.login(slug, email, "wrong password!").await,
            Code::Unauthenticated,
            "",
        );
        times.push(started.elapsed());
    }
    times.sort();
    times[tries / 2]
}

#[tokio::test]
async fn unknown_tenants_and_emails_take_as_long_as_a_wrong_password() {
    // Enough failures allowed per address for this test's many tries.
    let cluster =
        TestCluster::start_with(|f| f.merge(("services.login_failures_per_address", 1000))).await;
    let mut c = Clients::connect(&cluster).await;
    let admin = c.register("berg").await;
    let known = median_login_time(&mut c, 7, "berg", &admin.email).await;
    let unknown_email = median_login_time(&mut c, 7, "berg", "nobody@berg.example").await;
    let unknown_tenant = median_login_time(&mut c, 7, "nowhere", &admin.email).await;
    // Not a benchmark: an unknown user costs the same Argon2 verification,
    // so the answers are not several times faster.
    for (what, time) in [
        ("unknown email", unknown_email),
        ("unknown tenant", unknown_tenant),
    ] {
        assert!(
            time * 2 >= known,
            "{what} answered in {time:?}, a wrong password in {known:?}"
        );
    }
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_and_successes_are_not() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    // Failures at other (unknown) users, so that the admin is not locked out.
    for i in 0..9 {
        assert_status(
            c.login(
                "berg",
                &format!("nobody{i}@berg.example"),
                "wrong password!",
            )
            .await,
            Code::Unauthenticated,
            WRONG_LOGIN,
        );
    }
    // Successful logins are neither counted nor refused.
    for _ in 0..3 {
        c.login("berg", &admin.email, PASSWORD)
            .await
            .expect("a right password is not throttled below the limit");
    }
    assert_status(
        c.login("berg", "nobody@berg.example", "wrong password!")
            .await,
        Code::Unauthenticated,
        WRONG_LOGIN,
    );
    // The tenth failure within the window: now even the right password waits.
    let throttled = assert_status(
        c.login("berg", &admin.email, PASSWORD).await,
        Code::ResourceExhausted,
        "too many failed logins from this address; try again in",
    );
    assert!(throttled.message().ends_with(" s"), "{throttled:?}");
}

#[tokio::test]
async fn an_admin_renames_sets_communication_settings_and_changes_roles() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
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
    assert_invalid_field(
        c.tenancy
            .set_communication_settings(admin.request(pb::SetCommunicationSettingsRequest {
                command: command(),
                time_zone: "Mars/Olympus".into(),
                cadence_limit: 5,
                cadence_window_days: 14,
            }))
            .await,
        "",
        "time_zone",
    );
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
    let promoted = user(&mut c, &admin, &agent.user_id).await;
    assert_eq!(promoted.role(), pb::Role::Manager);
    // Logging out revokes the refresh token.
    c.tenancy
        .logout(pb::LogoutRequest {
            refresh_token: agent.refresh.clone(),
        })
        .await
        .expect("logout");
    assert_status(
        c.tenancy.refresh(refresh(&agent.refresh)).await,
        Code::Unauthenticated,
        "not valid",
    );
}

#[tokio::test]
async fn any_role_marks_its_own_notifications_read_once_per_command_and_forward_only() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let viewer = c.colleague(&admin, pb::Role::Viewer, "vera").await;
    let head = LogCounts::of(&cluster).await.events;
    let up_to = u64::try_from(head).expect("a position") - 1;
    let key = Uuid::now_v7();
    let mark = |up_to: u64, key: Uuid| pb::MarkNotificationsReadRequest {
        command: command_with(key, None),
        user_id: viewer.user_id.clone(),
        up_to,
    };
    let first = c
        .tenancy
        .mark_notifications_read(viewer.request(mark(up_to, key)))
        .await
        .expect("a viewer marks their own")
        .into_inner();
    assert!(first.position > 0 && !first.duplicate, "{first:?}");
    assert_eq!(first.version, 1);

    // The same command again: the first outcome, nothing appended.
    let before = LogCounts::of(&cluster).await;
    let again = c
        .tenancy
        .mark_notifications_read(viewer.request(mark(up_to, key)))
        .await
        .expect("a repeat")
        .into_inner();
    assert_eq!((again.position, again.duplicate), (first.position, true));
    // A new command at or below the mark changes nothing.
    let lower = c
        .tenancy
        .mark_notifications_read(viewer.request(mark(up_to - 1, Uuid::now_v7())))
        .await
        .expect("a lower mark")
        .into_inner();
    assert_eq!((lower.position, lower.version), (0, 1));
    assert_eq!(LogCounts::of(&cluster).await, before);

    // Further on: a second event on the viewer's inbox stream.
    let further = c
        .tenancy
        .mark_notifications_read(viewer.request(mark(first.position, Uuid::now_v7())))
        .await
        .expect("a further mark")
        .into_inner();
    assert_eq!(further.version, 2);
    assert_eq!(further.record_id, first.record_id);
    assert_ne!(
        further.record_id, viewer.user_id,
        "not the credentials stream"
    );
}
