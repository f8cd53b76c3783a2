//! Credentials that cannot be abused over gRPC: an invitation works once, a
//! refused acceptance sets no password, a replayed refresh token ends its
//! whole sign-in, and a refused registration stores nothing.

use crate::{assert_invalid_field, assert_status};
use deedlog_proto::tenancy::v1 as pb;
use deedlog_tests::clients::{command, command_with, PASSWORD};
use deedlog_tests::fixtures::{berg_registration, refresh};
use deedlog_tests::{start_connected, start_with_tenant, Clients, LogCounts, Session, TestCluster};
use tonic::Code;
use uuid::Uuid;

const ATTACKER: &str = "attacker-chosen password";

/// Invites `name` as an agent; the invitation token and the user's id.
async fn invite(c: &mut Clients, admin: &Session, name: &str) -> (String, String) {
    let invited = c.invite(admin, pb::Role::Agent, name).await;
    (invited.invitation_token, invited.user_id)
}

fn accept(id: Uuid, token: &str, password: &str) -> pb::AcceptInvitationRequest {
    pb::AcceptInvitationRequest {
        command: command_with(id, None),
        invitation_token: token.to_owned(),
        password: password.to_owned(),
    }
}

/// Accepts the invitation `token` with command id `id`, expecting success.
async fn accept_ok(
    c: &mut Clients,
    id: Uuid,
    token: &str,
    password: &str,
) -> deedlog_proto::common::v1::CommandReply {
    c.tenancy
        .accept_invitation(accept(id, token, password))
        .await
        .expect("accept")
        .into_inner()
}

/// Asserts that an attacker accepting `token` with a new command id is
/// refused with `text`.
async fn attacker_refused(c: &mut Clients, token: &str, text: &str) {
    assert_status(
        c.tenancy
            .accept_invitation(accept(Uuid::now_v7(), token, ATTACKER))
            .await,
        Code::FailedPrecondition,
        text,
    );
}

#[tokio::test]
async fn an_invitation_sets_the_password_once_and_a_replay_changes_nothing() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let (token, _) = invite(&mut c, &admin, "ben").await;
    let first = Uuid::now_v7();
    let accepted = accept_ok(&mut c, first, &token, PASSWORD).await;
    assert!(accepted.position > 0);
    let before = LogCounts::of(&cluster).await;
    // The same token again, with a new command id: refused, nothing stored.
    attacker_refused(&mut c, &token, "invitation was already accepted").await;
    // A repeat of its command id answers with the first outcome; another
    // password in it changes nothing (passwords are not fingerprinted).
    for password in [PASSWORD, ATTACKER] {
        let repeat = accept_ok(&mut c, first, &token, password).await;
        assert!(repeat.duplicate);
        assert_eq!(repeat.position, accepted.position);
    }
    assert_eq!(LogCounts::of(&cluster).await, before);
    assert!(c.login("berg", "ben@berg.example", PASSWORD).await.is_ok());
    assert_status(
        c.login("berg", "ben@berg.example", ATTACKER).await,
        Code::Unauthenticated,
        "",
    );
}

#[tokio::test]
async fn of_two_racing_acceptances_exactly_one_sets_the_password() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let (token, _) = invite(&mut c, &admin, "ben").await;
    let passwords = ["first racing password", "second racing password"];
    let calls = passwords.map(|password| {
        let mut tenancy = c.tenancy.clone();
        let request = accept(Uuid::now_v7(), &token, password);
        tokio::spawn(async move { tenancy.accept_invitation(request).await })
    });
    let mut won = Vec::new();
    for (call, password) in calls.into_iter().zip(passwords) {
        match call.await.expect("call") {
            Ok(_) => won.push(password),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one acceptance wins");
    let passwords_set = sqlx_count(&cluster, "PasswordSet").await;
    assert_eq!(passwords_set, 2, "the admin's and the winner's");
    for password in passwords {
        let login = c.login("berg", "ben@berg.example", password).await;
        assert_eq!(login.is_ok(), won == [password], "{password}");
    }
}

#[tokio::test]
async fn a_refused_acceptance_sets_no_password() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let (token, user) = invite(&mut c, &admin, "ben").await;
    c.tenancy
        .deactivate_user(admin.request(pb::DeactivateUserRequest {
            command: command(),
            user_id: user,
        }))
        .await
        .expect("deactivate");
    let before = LogCounts::of(&cluster).await;
    attacker_refused(&mut c, &token, "Deactivated").await;
    assert_eq!(before.appended_since(&cluster).await, Vec::<String>::new());
    assert_eq!(LogCounts::of(&cluster).await, before);
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_its_successors_but_not_other_sign_ins() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let laptop = c
        .login("berg", &admin.email, PASSWORD)
        .await
        .expect("second sign-in");
    let second = c.rotate(&admin.refresh).await;
    let third = c.rotate(&second.refresh_token).await;
    // The first token again (stolen, or replayed): refused, and its family ends.
    assert_status(
        c.tenancy.refresh(refresh(&admin.refresh)).await,
        Code::Unauthenticated,
        "already used",
    );
    assert_status(
        c.tenancy.refresh(refresh(&third.refresh_token)).await,
        Code::Unauthenticated,
        "not valid",
    );
    // Replayed once more: still refused, and nothing more is recorded.
    let before = LogCounts::of(&cluster).await;
    assert_status(
        c.tenancy.refresh(refresh(&second.refresh_token)).await,
        Code::Unauthenticated,
        "already used",
    );
    assert_eq!(LogCounts::of(&cluster).await, before);
    // The other sign-in is a family of its own.
    c.tenancy
        .refresh(refresh(&laptop.refresh))
        .await
        .expect("the other sign-in still refreshes");
}

#[tokio::test]
async fn a_refused_registration_stores_nothing_and_leaves_the_slug_free() {
    let (cluster, mut c) = start_connected().await;
    let base = berg_registration();
    let before = LogCounts::of(&cluster).await;
    for (request, field) in [
        (
            pb::RegisterTenantRequest {
                name: " ".into(),
                ..base.clone()
            },
            "name",
        ),
        (
            pb::RegisterTenantRequest {
                name: "x".repeat(1 << 20),
                ..base.clone()
            },
            "name",
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
                admin_display_name: String::new(),
                ..base.clone()
            },
            "admin_display_name",
        ),
    ] {
        assert_invalid_field(
            c.tenancy
                .register_tenant(pb::RegisterTenantRequest {
                    command: command(),
                    ..request
                })
                .await,
            "",
            field,
        );
        assert_eq!(LogCounts::of(&cluster).await, before, "{field}");
    }
    // The slug was not used up: a valid registration takes it.
    let registered = c
        .tenancy
        .register_tenant(base)
        .await
        .expect("register")
        .into_inner();
    let reply = registered.reply.expect("reply");
    let head = LogCounts::of(&cluster).await;
    assert_eq!(head.events - before.events, 3, "slug, tenant, password");
    assert_eq!(head.tenants - before.tenants, 1);
    // The reply's position is the registration's last event's.
    assert_eq!(reply.position, max_position(&cluster).await);
}

async fn sqlx_count(cluster: &TestCluster, event_type: &str) -> i64 {
    use sqlx::ConnectOptions;
    let mut conn = cluster.database_options().connect().await.expect("connect");
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

async fn max_position(cluster: &TestCluster) -> u64 {
    use sqlx::ConnectOptions;
    let mut conn = cluster.database_options().connect().await.expect("connect");
    let max: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&mut conn)
        .await
        .expect("max");
    u64::try_from(max).expect("positive")
}

#[tokio::test]
async fn a_repeated_acceptance_with_a_reissued_token_is_the_same_request() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let invite_id = Uuid::now_v7();
    let invite = || pb::InviteUserRequest {
        command: command_with(invite_id, None),
        email: "ben@berg.example".into(),
        display_name: "Ben".into(),
        role: pb::Role::Agent.into(),
    };
    let first = c
        .tenancy
        .invite_user(admin.request(invite()))
        .await
        .expect("invite")
        .into_inner();
    // A client retrying its invitation gets the first outcome and a token
    // issued anew (another instant: another token for the same user).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = c
        .tenancy
        .invite_user(admin.request(invite()))
        .await
        .expect("invite again")
        .into_inner();
    assert_eq!(again.user_id, first.user_id);
    assert_ne!(again.invitation_token, first.invitation_token);
    let id = Uuid::now_v7();
    let accepted = accept_ok(&mut c, id, &first.invitation_token, PASSWORD).await;
    let repeat = accept_ok(&mut c, id, &again.invitation_token, PASSWORD).await;
    assert!(repeat.duplicate);
    assert_eq!(repeat.position, accepted.position);
}
