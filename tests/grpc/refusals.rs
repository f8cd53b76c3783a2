//! Refused commands append nothing: every command RPC of every service is
//! sent at least one invalid request (a bad id, an empty required field, a
//! value out of range) and at least one request that breaks a rule of the
//! domain (a move the state does not allow, a closed deal, a role that may
//! not do it, a module switched off), and the log (events, commands,
//! tenants) must be the same after each refusal as before it.
//!
//! The table has one row per RPC; `every_command_rpc_of_the_protos_has_a_row`
//! reads the service definitions in `proto/` so a new RPC without a row fails.
//! The only refusals that leave events are the ones docs/events.md records
//! on purpose; they are listed in `RECORDED_REFUSALS`, never let through
//! silently.

use deedlog_proto::common::v1::{Date, Money};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{command, PASSWORD};
use deedlog_tests::fixtures::{
    apartment, archive, consent, email, eur, forget_contact, forget_user, lindenstrasse, lose,
    move_stage, random_id, reactivate, refresh, reopen, reprice, restore, resume_cadence,
    set_module, suspend, usd, NOT_A_UUID,
};
use deedlog_tests::{Clients, LogCounts, Session, TestCluster};
use futures::future::{BoxFuture, FutureExt};
use std::collections::BTreeSet;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Whether a case sends malformed input or well-formed input that a rule refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Rule,
}

/// One call of an RPC against the fixture; `Ok` means it was not refused.
type Call = fn(Fixture) -> BoxFuture<'static, Result<(), Status>>;

/// One request that must be refused.
struct Case {
    kind: Kind,
    what: &'static str,
    call: Call,
}

/// Every refused request of one RPC.
struct Row {
    service: &'static str,
    rpc: &'static str,
    cases: Vec<Case>,
}

fn invalid(what: &'static str, call: Call) -> Case {
    Case {
        kind: Kind::Invalid,
        what,
        call,
    }
}

fn rule(what: &'static str, call: Call) -> Case {
    Case {
        kind: Kind::Rule,
        what,
        call,
    }
}

fn row(service: &'static str, rpc: &'static str, cases: Vec<Case>) -> Row {
    Row {
        service,
        rpc,
        cases,
    }
}

/// Refusals that docs/events.md says are recorded on purpose: (rpc, case,
/// the only event types the refusal may append). Anything else a refusal
/// appends fails the test.
const RECORDED_REFUSALS: &[(&str, &str, &[&str])] = &[
    // A send that compliance refuses is a compliance decision and is kept
    // as `MessageRefused` (ADR 0009, docs/events.md "MessageRefused").
    (
        "SendMessage",
        "no consent for the channel",
        &["MessageRefused"],
    ),
    // A wrong password counts towards lock-out, so it is kept as
    // `LoginFailed` (docs/events.md "LoginFailed").
    ("Login", "wrong password", &["LoginFailed"]),
    // A spent refresh token presented again while its sign-in still has a
    // live token is a replay: every token of that sign-in is revoked and
    // `RefreshTokenReused` records it (docs/events.md "RefreshTokenReused").
    (
        "Refresh",
        "refresh token already exchanged",
        &["RefreshTokenReused"],
    ),
];

/// Refusals known to append something they should not, each naming its
/// defect. Kept so CI stays green until the defect is fixed; a listed case
/// that no longer appends fails the test, so the list cannot go stale.
const KNOWN_DEFECTS: &[(&str, &str)] = &[];

/// RPCs that have no rule a well-formed request can break, with the reason;
/// their invalid inputs are still in the table.
const NO_RULE_TO_BREAK: &[(&str, &str)] = &[(
    "Logout",
    "logout is idempotent: any well-formed refresh token is accepted, and one that is \
     unknown or already revoked changes nothing (credentials::decide, Action::Logout)",
)];

/// A case that sends the request built from the fixture `f` to
/// `service.rpc` as the fixture's session `who`.
macro_rules! send {
    ($service:ident . $rpc:ident as $who:ident, |$f:ident| $request:expr $(,)?) => {
        |$f: Fixture| -> BoxFuture<'static, Result<(), Status>> {
            let mut c = $f.c.clone();
            async move { c.$service.$rpc($f.$who.request($request)).await.map(drop) }.boxed()
        }
    };
}

/// What the calls act on.
#[derive(Clone)]
struct Fixture {
    c: Clients,
    admin: Session,
    agent: Session,
    viewer: Session,
    /// The admin of another tenant.
    other: Session,
    /// The admin of a tenant with every module switched off.
    dark: Session,
    /// The admin of a suspended tenant.
    frozen: Session,
    viewer_email: String,
    used_invitation: String,
    revoked_refresh: String,
    /// A refresh token already exchanged for a new one that is still live.
    rotated_refresh: String,
    property: String,
    archived: String,
    contact: String,
    /// A message to `contact` that compliance refused.
    refused_message: String,
    deal: String,
    /// A scenario of `deal`.
    scenario: String,
    lost_deal: String,
}

fn details(name: &str, email: &str) -> Option<comms::ContactDetails> {
    Some(comms::ContactDetails {
        name: name.into(),
        email: email.into(),
        phone: String::new(),
        address: None,
    })
}

fn new_deal(property: &str, buyer: &str) -> deals::OpenDealRequest {
    deals::OpenDealRequest {
        command: command(),
        property_id: property.into(),
        buyer_contact_id: buyer.into(),
        offer: eur(40_000_000),
        ..Default::default()
    }
}

fn scenario(deal: &str, scenario_id: &str, name: &str) -> deals::ScenarioRequest {
    deals::ScenarioRequest {
        command: command(),
        deal_id: deal.into(),
        scenario_id: scenario_id.into(),
        name: name.into(),
        price: eur(41_000_000),
        costs: vec![],
        financing: None,
    }
}

/// Sets up a tenant with colleagues, a property, an archived property, a
/// contact with a refused message, an open deal with a scenario and a lost
/// deal, and three
/// other tenants: another, one with its modules off, one suspended.
async fn fixture(cluster: &TestCluster) -> Fixture {
    let mut c = Clients::connect(cluster).await;
    let admin = c.register("berg").await;
    let agent = c.colleague(&admin, tenancy::Role::Agent, "ben").await;
    let viewer_email = "vic@berg.example".to_owned();
    let invited = c
        .tenancy
        .invite_user(admin.request(tenancy::InviteUserRequest {
            command: command(),
            email: viewer_email.clone(),
            display_name: "Vic".into(),
            role: tenancy::Role::Viewer.into(),
        }))
        .await
        .expect("invite the viewer")
        .into_inner();
    c.tenancy
        .accept_invitation(tenancy::AcceptInvitationRequest {
            command: command(),
            invitation_token: invited.invitation_token.clone(),
            password: PASSWORD.into(),
        })
        .await
        .expect("the viewer accepts");
    let viewer = c
        .login("berg", &viewer_email, PASSWORD)
        .await
        .expect("the viewer logs in");
    let signed_out = c
        .login("berg", &viewer_email, PASSWORD)
        .await
        .expect("the viewer logs in again");
    c.tenancy
        .logout(tenancy::LogoutRequest {
            refresh_token: signed_out.refresh.clone(),
        })
        .await
        .expect("logout");
    let rotated = c
        .login("berg", &viewer_email, PASSWORD)
        .await
        .expect("the viewer logs in a third time");
    c.tenancy
        .refresh(refresh(&rotated.refresh))
        .await
        .expect("refresh");

    let other = c.register("other").await;
    let dark = c.register("dark").await;
    for module in [
        tenancy::Module::Properties,
        tenancy::Module::Deals,
        tenancy::Module::Communications,
    ] {
        c.tenancy
            .set_module(dark.request(set_module(module, false)))
            .await
            .expect("switch a module off");
    }
    let frozen = c.register("frozen").await;
    c.suspend(&frozen).await;

    let property = c.create_property(&agent, apartment()).await.record_id;
    let archived = c.create_property(&agent, apartment()).await.record_id;
    c.properties
        .archive_property(agent.request(archive(&archived)))
        .await
        .expect("archive");

    let clara = details("Clara Voss", "clara@example.com").expect("details");
    let contact = c.contact_with(&admin, clara).await;
    let refused_message = random_id();
    let status = c
        .communications
        .send_message(admin.request(comms::SendMessageRequest {
            message_id: refused_message.clone(),
            ..email(&contact, "Lindenstraße 5", "The viewing is on Friday.")
        }))
        .await
        .expect_err("no consent yet");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let deal = c.open_deal(&agent, new_deal(&property, &contact)).await;
    let scenario_id = random_id();
    c.deals
        .add_scenario(agent.request(scenario(&deal, &scenario_id, "cash")))
        .await
        .expect("scenario");
    let lost_deal = c.open_deal(&agent, new_deal(&property, &contact)).await;
    c.deals
        .lose_deal(agent.request(lose(&lost_deal, "the buyer bought elsewhere")))
        .await
        .expect("lose");

    Fixture {
        c,
        admin,
        agent,
        viewer,
        other,
        dark,
        frozen,
        viewer_email,
        used_invitation: invited.invitation_token,
        revoked_refresh: signed_out.refresh,
        rotated_refresh: rotated.refresh,
        property,
        archived,
        contact,
        refused_message,
        deal,
        scenario: scenario_id,
        lost_deal,
    }
}

/// One row per command RPC, in the order of the protos.
fn rows() -> Vec<Row> {
    let mut rows = tenancy_rows();
    rows.extend(properties_rows());
    rows.extend(deals_rows());
    rows.extend(communications_rows());
    rows
}

fn tenancy_rows() -> Vec<Row> {
    const S: &str = "TenancyService";
    fn register(slug: &str) -> tenancy::RegisterTenantRequest {
        tenancy::RegisterTenantRequest {
            command: command(),
            name: "Neu Immobilien".into(),
            slug: slug.into(),
            admin_email: "admin@neu.example".into(),
            admin_display_name: "Nora Neu".into(),
            admin_password: PASSWORD.into(),
        }
    }
    vec![
        row(
            S,
            "RegisterTenant",
            vec![
                invalid("slug with capitals and spaces", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .register_tenant(register("Not A Slug!"))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("empty password", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let mut request = register("neu");
                        request.admin_password = String::new();
                        c.tenancy.register_tenant(request).await.map(drop)
                    }
                    .boxed()
                }),
                rule("slug already taken", |f| {
                    let mut c = f.c.clone();
                    async move { c.tenancy.register_tenant(register("berg")).await.map(drop) }
                        .boxed()
                }),
            ],
        ),
        row(
            S,
            "Login",
            vec![
                invalid("empty tenant slug and email", |f| {
                    let mut c = f.c.clone();
                    async move { c.login("", "", PASSWORD).await.map(drop) }.boxed()
                }),
                rule("wrong password", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.login("berg", &f.viewer_email, "not the password")
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("unknown email", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.login("berg", "nobody@berg.example", PASSWORD)
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "Refresh",
            vec![
                invalid("malformed refresh token", |f| {
                    let mut c = f.c.clone();
                    async move { c.tenancy.refresh(refresh("garbage")).await.map(drop) }.boxed()
                }),
                rule("refresh token already exchanged", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .refresh(refresh(&f.rotated_refresh))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("refresh token revoked by logout", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .refresh(refresh(&f.revoked_refresh))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "Logout",
            vec![invalid("malformed refresh token", |f| {
                let mut c = f.c.clone();
                async move {
                    c.tenancy
                        .logout(tenancy::LogoutRequest {
                            refresh_token: "a.b.c".into(),
                        })
                        .await
                        .map(drop)
                }
                .boxed()
            })],
        ),
        row(
            S,
            "AcceptInvitation",
            vec![
                invalid("invitation token that is no token", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .accept_invitation(tenancy::AcceptInvitationRequest {
                                command: command(),
                                invitation_token: "garbage".into(),
                                password: PASSWORD.into(),
                            })
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("too short a password", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .accept_invitation(tenancy::AcceptInvitationRequest {
                                command: command(),
                                invitation_token: f.used_invitation.clone(),
                                password: "short".into(),
                            })
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("invitation already accepted", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .accept_invitation(tenancy::AcceptInvitationRequest {
                                command: command(),
                                invitation_token: f.used_invitation.clone(),
                                password: "another correct horse battery".into(),
                            })
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RenameTenant",
            vec![
                invalid(
                    "empty name",
                    send!(tenancy.rename_tenant as admin, |f| {
                        tenancy::RenameTenantRequest {
                            command: command(),
                            name: "  ".into(),
                        }
                    }),
                ),
                rule(
                    "a viewer may not rename",
                    send!(tenancy.rename_tenant as viewer, |f| {
                        tenancy::RenameTenantRequest {
                            command: command(),
                            name: "Viewer Immobilien".into(),
                        }
                    }),
                ),
                rule(
                    "a suspended tenant accepts no commands",
                    send!(tenancy.rename_tenant as frozen, |f| {
                        tenancy::RenameTenantRequest {
                            command: command(),
                            name: "Frozen Immobilien".into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SuspendTenant",
            vec![
                invalid(
                    "tenant id that is no UUID",
                    send!(tenancy.suspend_tenant as admin, |f| suspend(NOT_A_UUID)),
                ),
                rule(
                    "another tenant",
                    send!(tenancy.suspend_tenant as admin, |f| {
                        suspend(&f.other.tenant_id)
                    }),
                ),
                rule(
                    "an agent may not suspend",
                    send!(tenancy.suspend_tenant as agent, |f| {
                        suspend(&f.agent.tenant_id)
                    }),
                ),
            ],
        ),
        row(
            S,
            "ReactivateTenant",
            vec![
                invalid(
                    "tenant id that is no UUID",
                    send!(tenancy.reactivate_tenant as admin, |f| {
                        reactivate(NOT_A_UUID)
                    }),
                ),
                rule(
                    "the tenant is not suspended",
                    send!(tenancy.reactivate_tenant as admin, |f| {
                        reactivate(&f.admin.tenant_id)
                    }),
                ),
                rule(
                    "another, suspended tenant",
                    send!(tenancy.reactivate_tenant as admin, |f| {
                        reactivate(&f.frozen.tenant_id)
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetModule",
            vec![
                invalid(
                    "unspecified module",
                    send!(tenancy.set_module as admin, |f| set_module(
                        tenancy::Module::Unspecified,
                        false
                    )),
                ),
                invalid(
                    "module number out of range",
                    send!(tenancy.set_module as admin, |f| tenancy::SetModuleRequest {
                        command: command(),
                        module: 99,
                        enabled: false,
                    }),
                ),
                rule(
                    "an agent may not switch modules",
                    send!(tenancy.set_module as agent, |f| set_module(
                        tenancy::Module::Deals,
                        false
                    )),
                ),
            ],
        ),
        row(
            S,
            "SetCommunicationSettings",
            vec![
                invalid(
                    "unknown time zone",
                    send!(tenancy.set_communication_settings as admin, |f| {
                        tenancy::SetCommunicationSettingsRequest {
                            command: command(),
                            time_zone: "Mars/Olympus_Mons".into(),
                            cadence_limit: 3,
                            cadence_window_days: 7,
                        }
                    },),
                ),
                invalid(
                    "a cadence window of zero days",
                    send!(tenancy.set_communication_settings as admin, |f| {
                        tenancy::SetCommunicationSettingsRequest {
                            command: command(),
                            time_zone: "Europe/Berlin".into(),
                            cadence_limit: 3,
                            cadence_window_days: 0,
                        }
                    },),
                ),
                rule(
                    "an agent may not change settings",
                    send!(tenancy.set_communication_settings as agent, |f| {
                        tenancy::SetCommunicationSettingsRequest {
                            command: command(),
                            time_zone: "Europe/Berlin".into(),
                            cadence_limit: 3,
                            cadence_window_days: 7,
                        }
                    },),
                ),
            ],
        ),
        row(
            S,
            "InviteUser",
            vec![
                invalid(
                    "email without @",
                    send!(tenancy.invite_user as admin, |f| {
                        tenancy::InviteUserRequest {
                            command: command(),
                            email: "not-an-email".into(),
                            display_name: "Nina".into(),
                            role: tenancy::Role::Agent.into(),
                        }
                    }),
                ),
                invalid(
                    "unspecified role",
                    send!(tenancy.invite_user as admin, |f| {
                        tenancy::InviteUserRequest {
                            command: command(),
                            email: "nina@berg.example".into(),
                            display_name: "Nina".into(),
                            role: tenancy::Role::Unspecified.into(),
                        }
                    }),
                ),
                rule(
                    "email already a user",
                    send!(tenancy.invite_user as admin, |f| {
                        tenancy::InviteUserRequest {
                            command: command(),
                            email: f.viewer_email.clone(),
                            display_name: "Vic again".into(),
                            role: tenancy::Role::Agent.into(),
                        }
                    }),
                ),
                rule(
                    "an agent may not invite",
                    send!(tenancy.invite_user as agent, |f| {
                        tenancy::InviteUserRequest {
                            command: command(),
                            email: "nina@berg.example".into(),
                            display_name: "Nina".into(),
                            role: tenancy::Role::Admin.into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ChangeRole",
            vec![
                invalid(
                    "user id that is no UUID",
                    send!(tenancy.change_role as admin, |f| {
                        tenancy::ChangeRoleRequest {
                            command: command(),
                            user_id: NOT_A_UUID.into(),
                            role: tenancy::Role::Manager.into(),
                        }
                    }),
                ),
                rule(
                    "the last active admin demotes themself",
                    send!(tenancy.change_role as admin, |f| {
                        tenancy::ChangeRoleRequest {
                            command: command(),
                            user_id: f.admin.user_id.clone(),
                            role: tenancy::Role::Agent.into(),
                        }
                    }),
                ),
                rule(
                    "a user of another tenant",
                    send!(tenancy.change_role as admin, |f| {
                        tenancy::ChangeRoleRequest {
                            command: command(),
                            user_id: f.other.user_id.clone(),
                            role: tenancy::Role::Viewer.into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "DeactivateUser",
            vec![
                invalid(
                    "user id that is no UUID",
                    send!(tenancy.deactivate_user as admin, |f| {
                        tenancy::DeactivateUserRequest {
                            command: command(),
                            user_id: NOT_A_UUID.into(),
                        }
                    }),
                ),
                rule(
                    "the last active admin deactivates themself",
                    send!(tenancy.deactivate_user as admin, |f| {
                        tenancy::DeactivateUserRequest {
                            command: command(),
                            user_id: f.admin.user_id.clone(),
                        }
                    }),
                ),
                rule(
                    "a viewer may not deactivate",
                    send!(tenancy.deactivate_user as viewer, |f| {
                        tenancy::DeactivateUserRequest {
                            command: command(),
                            user_id: f.agent.user_id.clone(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ForgetUser",
            vec![
                invalid(
                    "user id that is no UUID",
                    send!(tenancy.forget_user as admin, |f| forget_user(NOT_A_UUID)),
                ),
                rule(
                    "an active user is forgotten",
                    send!(tenancy.forget_user as admin, |f| forget_user(
                        &f.agent.user_id
                    )),
                ),
                rule(
                    "another tenant's user is forgotten",
                    send!(tenancy.forget_user as other, |f| forget_user(
                        &f.agent.user_id
                    )),
                ),
                rule(
                    "an agent may not forget users",
                    send!(tenancy.forget_user as agent, |f| forget_user(
                        &f.viewer.user_id
                    )),
                ),
            ],
        ),
        row(
            S,
            "MarkNotificationsRead",
            vec![
                invalid(
                    "user id that is no UUID",
                    send!(tenancy.mark_notifications_read as agent, |f| {
                        tenancy::MarkNotificationsReadRequest {
                            command: command(),
                            user_id: NOT_A_UUID.into(),
                            up_to: 1,
                        }
                    }),
                ),
                invalid(
                    "a position beyond the log's head",
                    send!(tenancy.mark_notifications_read as agent, |f| {
                        tenancy::MarkNotificationsReadRequest {
                            command: command(),
                            user_id: f.agent.user_id.clone(),
                            up_to: u64::MAX,
                        }
                    }),
                ),
                rule(
                    "another user's notifications",
                    send!(tenancy.mark_notifications_read as agent, |f| {
                        tenancy::MarkNotificationsReadRequest {
                            command: command(),
                            user_id: f.viewer.user_id.clone(),
                            up_to: 1,
                        }
                    }),
                ),
            ],
        ),
    ]
}

fn properties_rows() -> Vec<Row> {
    const S: &str = "PropertiesService";
    vec![
        row(
            S,
            "CreateProperty",
            vec![
                invalid(
                    "no address",
                    send!(properties.create_property as agent, |f| {
                        props::CreatePropertyRequest {
                            address: None,
                            ..apartment()
                        }
                    }),
                ),
                invalid(
                    "negative asking price",
                    send!(properties.create_property as agent, |f| {
                        props::CreatePropertyRequest {
                            asking_price: eur(-1),
                            ..apartment()
                        }
                    }),
                ),
                rule(
                    "the property id already exists",
                    send!(properties.create_property as agent, |f| {
                        props::CreatePropertyRequest {
                            property_id: f.property.clone(),
                            ..apartment()
                        }
                    }),
                ),
                rule(
                    "a viewer may not create",
                    send!(properties.create_property as viewer, |f| apartment()),
                ),
                rule(
                    "the properties module is off",
                    send!(properties.create_property as dark, |f| apartment()),
                ),
                rule(
                    "the tenant is suspended",
                    send!(properties.create_property as frozen, |f| apartment()),
                ),
            ],
        ),
        row(
            S,
            "ChangeAddress",
            vec![
                invalid(
                    "country that is no ISO code",
                    send!(properties.change_address as agent, |f| {
                        props::ChangeAddressRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            address: Some(props::Address {
                                country: "Germany".into(),
                                ..lindenstrasse()
                            }),
                        }
                    }),
                ),
                invalid(
                    "latitude out of range",
                    send!(properties.change_address as agent, |f| {
                        props::ChangeAddressRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            address: Some(props::Address {
                                latitude: Some(123.0),
                                longitude: Some(13.4),
                                ..lindenstrasse()
                            }),
                        }
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.change_address as agent, |f| {
                        props::ChangeAddressRequest {
                            command: command(),
                            property_id: f.archived.clone(),
                            address: Some(props::Address {
                                street: "Lindenstraße 9".into(),
                                ..lindenstrasse()
                            }),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ChangeAttributes",
            vec![
                invalid(
                    "negative number of rooms",
                    send!(properties.change_attributes as agent, |f| {
                        props::ChangeAttributesRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            attributes: Some(props::Attributes {
                                rooms: Some(props::SourcedInt {
                                    value: -3,
                                    provenance: Some(props::Provenance {
                                        source: props::SourceKind::Manual.into(),
                                        provider: String::new(),
                                        confidence_pct: 90,
                                    }),
                                }),
                                ..Default::default()
                            }),
                        }
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.change_attributes as agent, |f| {
                        props::ChangeAttributesRequest {
                            command: command(),
                            property_id: f.archived.clone(),
                            attributes: Some(props::Attributes {
                                rooms: Some(props::SourcedInt {
                                    value: 3,
                                    provenance: Some(props::Provenance {
                                        source: props::SourceKind::Manual.into(),
                                        provider: String::new(),
                                        confidence_pct: 90,
                                    }),
                                }),
                                ..Default::default()
                            }),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ChangeAskingPrice",
            vec![
                invalid(
                    "currency that is no ISO code",
                    send!(properties.change_asking_price as agent, |f| {
                        props::ChangeAskingPriceRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            asking_price: Some(Money {
                                amount_minor: 100,
                                currency: "euro".into(),
                            }),
                        }
                    }),
                ),
                rule(
                    "another currency than the property's",
                    send!(properties.change_asking_price as agent, |f| {
                        reprice(&f.property, usd(50_000_000))
                    }),
                ),
            ],
        ),
        row(
            S,
            "RecordValuation",
            vec![
                invalid(
                    "confidence over 100 %",
                    send!(properties.record_valuation as agent, |f| {
                        props::RecordValuationRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            value: eur(44_000_000),
                            source: Some(props::Provenance {
                                source: props::SourceKind::Provider.into(),
                                provider: "PriceHubble".into(),
                                confidence_pct: 150,
                            }),
                            valued_on: Some(Date {
                                year: 2026,
                                month: 11,
                                day: 1,
                            }),
                        }
                    }),
                ),
                invalid(
                    "the 31st of February",
                    send!(properties.record_valuation as agent, |f| {
                        props::RecordValuationRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            value: eur(44_000_000),
                            source: Some(props::Provenance {
                                source: props::SourceKind::Manual.into(),
                                provider: String::new(),
                                confidence_pct: 80,
                            }),
                            valued_on: Some(Date {
                                year: 2026,
                                month: 2,
                                day: 31,
                            }),
                        }
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.record_valuation as agent, |f| {
                        props::RecordValuationRequest {
                            command: command(),
                            property_id: f.archived.clone(),
                            value: eur(44_000_000),
                            source: Some(props::Provenance {
                                source: props::SourceKind::Manual.into(),
                                provider: String::new(),
                                confidence_pct: 80,
                            }),
                            valued_on: Some(Date {
                                year: 2026,
                                month: 11,
                                day: 1,
                            }),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ChangeListingStatus",
            vec![
                invalid(
                    "unspecified status",
                    send!(properties.change_listing_status as agent, |f| {
                        props::ChangeListingStatusRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            status: props::ListingStatus::Unspecified.into(),
                        }
                    },),
                ),
                rule(
                    "draft straight to sold",
                    send!(properties.change_listing_status as agent, |f| {
                        props::ChangeListingStatusRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            status: props::ListingStatus::Sold.into(),
                        }
                    },),
                ),
            ],
        ),
        row(
            S,
            "AssignAgent",
            vec![
                invalid(
                    "agent id that is no UUID",
                    send!(properties.assign_agent as admin, |f| {
                        props::AssignAgentRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            agent_id: NOT_A_UUID.into(),
                        }
                    }),
                ),
                rule(
                    "a viewer cannot be the agent",
                    send!(properties.assign_agent as admin, |f| {
                        props::AssignAgentRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            agent_id: f.viewer.user_id.clone(),
                        }
                    }),
                ),
                rule(
                    "a user of another tenant cannot be the agent",
                    send!(properties.assign_agent as admin, |f| {
                        props::AssignAgentRequest {
                            command: command(),
                            property_id: f.property.clone(),
                            agent_id: f.other.user_id.clone(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetOwner",
            vec![
                invalid(
                    "owner id that is no UUID",
                    send!(properties.set_owner as agent, |f| props::SetOwnerRequest {
                        command: command(),
                        property_id: f.property.clone(),
                        owner_contact_id: NOT_A_UUID.into(),
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.set_owner as agent, |f| props::SetOwnerRequest {
                        command: command(),
                        property_id: f.archived.clone(),
                        owner_contact_id: f.contact.clone(),
                    }),
                ),
            ],
        ),
        row(
            S,
            "AddTag",
            vec![
                invalid(
                    "empty tag",
                    send!(properties.add_tag as agent, |f| props::TagRequest {
                        command: command(),
                        property_id: f.property.clone(),
                        tag: " ".into(),
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.add_tag as agent, |f| props::TagRequest {
                        command: command(),
                        property_id: f.archived.clone(),
                        tag: "garden".into(),
                    }),
                ),
            ],
        ),
        row(
            S,
            "RemoveTag",
            vec![
                invalid(
                    "empty tag",
                    send!(properties.remove_tag as agent, |f| props::TagRequest {
                        command: command(),
                        property_id: f.property.clone(),
                        tag: String::new(),
                    }),
                ),
                rule(
                    "the property is archived",
                    send!(properties.remove_tag as agent, |f| props::TagRequest {
                        command: command(),
                        property_id: f.archived.clone(),
                        tag: "balcony".into(),
                    }),
                ),
            ],
        ),
        row(
            S,
            "ArchiveProperty",
            vec![
                invalid(
                    "property id that is no UUID",
                    send!(properties.archive_property as agent, |f| {
                        archive(NOT_A_UUID)
                    }),
                ),
                rule(
                    "already archived",
                    send!(properties.archive_property as agent, |f| {
                        archive(&f.archived)
                    }),
                ),
                rule(
                    "a property that does not exist",
                    send!(properties.archive_property as agent, |f| {
                        archive(&random_id())
                    }),
                ),
            ],
        ),
        row(
            S,
            "RestoreProperty",
            vec![
                invalid(
                    "empty property id",
                    send!(properties.restore_property as agent, |f| restore("")),
                ),
                rule(
                    "the property is not archived",
                    send!(properties.restore_property as agent, |f| {
                        restore(&f.property)
                    }),
                ),
            ],
        ),
    ]
}

fn deals_rows() -> Vec<Row> {
    const S: &str = "DealsService";
    vec![
        row(
            S,
            "OpenDeal",
            vec![
                invalid("property id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = deals::OpenDealRequest {
                            property_id: NOT_A_UUID.into(),
                            ..new_deal(&f.property, &f.contact)
                        };
                        c.deals.open_deal(f.agent.request(request)).await.map(drop)
                    }
                    .boxed()
                }),
                invalid("negative offer", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = deals::OpenDealRequest {
                            offer: eur(-5),
                            ..new_deal(&f.property, &f.contact)
                        };
                        c.deals.open_deal(f.agent.request(request)).await.map(drop)
                    }
                    .boxed()
                }),
                rule("the deal id already exists", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = deals::OpenDealRequest {
                            deal_id: f.deal.clone(),
                            ..new_deal(&f.property, &f.contact)
                        };
                        c.deals.open_deal(f.agent.request(request)).await.map(drop)
                    }
                    .boxed()
                }),
                rule("offer and commission in two currencies", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = deals::OpenDealRequest {
                            commission: usd(1_000_000),
                            ..new_deal(&f.property, &f.contact)
                        };
                        c.deals.open_deal(f.agent.request(request)).await.map(drop)
                    }
                    .boxed()
                }),
                rule(
                    "the deals module is off",
                    send!(deals.open_deal as dark, |f| new_deal(
                        &f.property,
                        &f.contact
                    )),
                ),
            ],
        ),
        row(
            S,
            "MoveStage",
            vec![
                invalid(
                    "unspecified stage",
                    send!(deals.move_stage as agent, |f| move_stage(
                        &f.deal,
                        deals::Stage::Unspecified
                    )),
                ),
                rule(
                    "lead straight to offer",
                    send!(deals.move_stage as agent, |f| move_stage(
                        &f.deal,
                        deals::Stage::Offer
                    )),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.move_stage as agent, |f| move_stage(
                        &f.lost_deal,
                        deals::Stage::Qualified
                    )),
                ),
            ],
        ),
        row(
            S,
            "WinDeal",
            vec![
                invalid(
                    "no final price",
                    send!(deals.win_deal as agent, |f| deals::WinDealRequest {
                        command: command(),
                        deal_id: f.deal.clone(),
                        final_price: None,
                    }),
                ),
                rule(
                    "the deal is already closed",
                    send!(deals.win_deal as agent, |f| deals::WinDealRequest {
                        command: command(),
                        deal_id: f.lost_deal.clone(),
                        final_price: eur(41_000_000),
                    }),
                ),
            ],
        ),
        row(
            S,
            "LoseDeal",
            vec![
                invalid(
                    "empty reason",
                    send!(deals.lose_deal as agent, |f| lose(&f.deal, "")),
                ),
                rule(
                    "the deal is already closed",
                    send!(deals.lose_deal as agent, |f| lose(
                        &f.lost_deal,
                        "lost twice"
                    )),
                ),
            ],
        ),
        row(
            S,
            "SetOffer",
            vec![
                invalid(
                    "negative offer",
                    send!(deals.set_offer as agent, |f| deals::SetOfferRequest {
                        command: command(),
                        deal_id: f.deal.clone(),
                        offer: eur(-1),
                    }),
                ),
                rule(
                    "another currency than the deal's",
                    send!(deals.set_offer as agent, |f| deals::SetOfferRequest {
                        command: command(),
                        deal_id: f.deal.clone(),
                        offer: usd(40_000_000),
                    }),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.set_offer as agent, |f| deals::SetOfferRequest {
                        command: command(),
                        deal_id: f.lost_deal.clone(),
                        offer: eur(40_500_000),
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetCommission",
            vec![
                invalid(
                    "currency that is no ISO code",
                    send!(deals.set_commission as agent, |f| {
                        deals::SetCommissionRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            commission: Some(Money {
                                amount_minor: 100,
                                currency: "E".into(),
                            }),
                        }
                    }),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.set_commission as agent, |f| {
                        deals::SetCommissionRequest {
                            command: command(),
                            deal_id: f.lost_deal.clone(),
                            commission: eur(1_000_000),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetProbability",
            vec![
                invalid(
                    "150 %",
                    send!(deals.set_probability as agent, |f| {
                        deals::SetProbabilityRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            probability_pct: Some(150),
                        }
                    }),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.set_probability as agent, |f| {
                        deals::SetProbabilityRequest {
                            command: command(),
                            deal_id: f.lost_deal.clone(),
                            probability_pct: Some(50),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetExpectedClose",
            vec![
                invalid(
                    "month 13",
                    send!(deals.set_expected_close as agent, |f| {
                        deals::SetExpectedCloseRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            expected_close: Some(Date {
                                year: 2027,
                                month: 13,
                                day: 1,
                            }),
                        }
                    }),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.set_expected_close as agent, |f| {
                        deals::SetExpectedCloseRequest {
                            command: command(),
                            deal_id: f.lost_deal.clone(),
                            expected_close: Some(Date {
                                year: 2027,
                                month: 3,
                                day: 1,
                            }),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ReassignDeal",
            vec![
                invalid(
                    "agent id that is no UUID",
                    send!(deals.reassign_deal as admin, |f| {
                        deals::ReassignDealRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            agent_id: NOT_A_UUID.into(),
                        }
                    }),
                ),
                rule(
                    "a viewer cannot be the agent",
                    send!(deals.reassign_deal as admin, |f| {
                        deals::ReassignDealRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            agent_id: f.viewer.user_id.clone(),
                        }
                    }),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.reassign_deal as admin, |f| {
                        deals::ReassignDealRequest {
                            command: command(),
                            deal_id: f.lost_deal.clone(),
                            agent_id: f.admin.user_id.clone(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ReopenDeal",
            vec![
                invalid(
                    "deal id that is no UUID",
                    send!(deals.reopen_deal as admin, |f| reopen(NOT_A_UUID)),
                ),
                rule(
                    "an agent may not reopen",
                    send!(deals.reopen_deal as agent, |f| reopen(&f.lost_deal)),
                ),
                rule(
                    "the deal is open",
                    send!(deals.reopen_deal as admin, |f| reopen(&f.deal)),
                ),
            ],
        ),
        row(
            S,
            "AddScenario",
            vec![
                invalid(
                    "empty name",
                    send!(deals.add_scenario as agent, |f| scenario(
                        &f.deal,
                        &random_id(),
                        ""
                    )),
                ),
                invalid(
                    "scenario id that is no UUID",
                    send!(deals.add_scenario as agent, |f| scenario(
                        &f.deal, NOT_A_UUID, "cash"
                    )),
                ),
                rule(
                    "the deal is closed",
                    send!(deals.add_scenario as agent, |f| scenario(
                        &f.lost_deal,
                        &random_id(),
                        "cash",
                    )),
                ),
            ],
        ),
        row(
            S,
            "UpdateScenario",
            vec![
                invalid(
                    "empty name",
                    send!(deals.update_scenario as agent, |f| scenario(
                        &f.deal,
                        &f.scenario,
                        ""
                    )),
                ),
                rule(
                    "no such scenario",
                    send!(deals.update_scenario as agent, |f| scenario(
                        &f.deal,
                        &random_id(),
                        "loan",
                    )),
                ),
            ],
        ),
        row(
            S,
            "RemoveScenario",
            vec![
                invalid(
                    "scenario id that is no UUID",
                    send!(deals.remove_scenario as agent, |f| {
                        deals::RemoveScenarioRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            scenario_id: NOT_A_UUID.into(),
                        }
                    }),
                ),
                rule(
                    "no such scenario",
                    send!(deals.remove_scenario as agent, |f| {
                        deals::RemoveScenarioRequest {
                            command: command(),
                            deal_id: f.deal.clone(),
                            scenario_id: random_id(),
                        }
                    }),
                ),
            ],
        ),
    ]
}

fn communications_rows() -> Vec<Row> {
    const S: &str = "CommunicationsService";
    fn viewing(contact: &str) -> comms::SendMessageRequest {
        email(contact, "Lindenstraße 5", "The viewing is on Friday.")
    }
    vec![
        row(
            S,
            "CreateContact",
            vec![
                invalid(
                    "email without @",
                    send!(communications.create_contact as admin, |f| {
                        comms::CreateContactRequest {
                            command: command(),
                            contact_id: String::new(),
                            details: details("Clara Voss", "clara-at-example.com"),
                        }
                    }),
                ),
                invalid(
                    "no details",
                    send!(communications.create_contact as admin, |f| {
                        comms::CreateContactRequest {
                            command: command(),
                            contact_id: String::new(),
                            details: None,
                        }
                    }),
                ),
                rule(
                    "the contact id already exists",
                    send!(communications.create_contact as admin, |f| {
                        comms::CreateContactRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            details: details("Clara Voss", "clara@example.com"),
                        }
                    }),
                ),
                rule(
                    "the communications module is off",
                    send!(communications.create_contact as dark, |f| {
                        comms::CreateContactRequest {
                            command: command(),
                            contact_id: String::new(),
                            details: details("Clara Voss", "clara@example.com"),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "UpdateContact",
            vec![
                invalid(
                    "empty name",
                    send!(communications.update_contact as admin, |f| {
                        comms::UpdateContactRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            details: details("", "clara@example.com"),
                        }
                    }),
                ),
                rule(
                    "a viewer may not change contacts",
                    send!(communications.update_contact as viewer, |f| {
                        comms::UpdateContactRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            details: details("Clara Voss-Berg", "clara@example.com"),
                        }
                    }),
                ),
                rule(
                    "a contact that does not exist",
                    send!(communications.update_contact as admin, |f| {
                        comms::UpdateContactRequest {
                            command: command(),
                            contact_id: random_id(),
                            details: details("Clara Voss", "clara@example.com"),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "GrantConsent",
            vec![
                invalid(
                    "unspecified channel",
                    send!(communications.grant_consent as admin, |f| {
                        consent(&f.contact, comms::Channel::Unspecified)
                    }),
                ),
                invalid(
                    "unspecified lawful basis",
                    send!(communications.grant_consent as admin, |f| {
                        comms::GrantConsentRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            channel: comms::Channel::Email.into(),
                            lawful_basis: comms::LawfulBasis::Unspecified.into(),
                            source: "web form".into(),
                        }
                    }),
                ),
                rule(
                    "a viewer may not grant consent",
                    send!(communications.grant_consent as viewer, |f| {
                        consent(&f.contact, comms::Channel::Email)
                    }),
                ),
            ],
        ),
        row(
            S,
            "WithdrawConsent",
            vec![
                invalid(
                    "contact id that is no UUID",
                    send!(communications.withdraw_consent as admin, |f| {
                        comms::WithdrawConsentRequest {
                            command: command(),
                            contact_id: NOT_A_UUID.into(),
                            channel: comms::Channel::Email.into(),
                            source: "phone call".into(),
                        }
                    }),
                ),
                rule(
                    "the communications module is off",
                    send!(communications.withdraw_consent as dark, |f| {
                        comms::WithdrawConsentRequest {
                            command: command(),
                            contact_id: random_id(),
                            channel: comms::Channel::Email.into(),
                            source: "phone call".into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SetDoNotCall",
            vec![
                invalid(
                    "empty contact id",
                    send!(communications.set_do_not_call as admin, |f| {
                        comms::SetDoNotCallRequest {
                            command: command(),
                            contact_id: String::new(),
                            do_not_call: true,
                        }
                    }),
                ),
                rule(
                    "the tenant is suspended",
                    send!(communications.set_do_not_call as frozen, |f| {
                        comms::SetDoNotCallRequest {
                            command: command(),
                            contact_id: random_id(),
                            do_not_call: true,
                        }
                    }),
                ),
                rule(
                    "a viewer may not change contacts",
                    send!(communications.set_do_not_call as viewer, |f| {
                        comms::SetDoNotCallRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            do_not_call: true,
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "Unsubscribe",
            vec![
                invalid(
                    "contact id that is no UUID",
                    send!(communications.unsubscribe as admin, |f| {
                        comms::UnsubscribeRequest {
                            command: command(),
                            contact_id: NOT_A_UUID.into(),
                            source: "link".into(),
                        }
                    }),
                ),
                rule(
                    "a contact of another tenant",
                    send!(communications.unsubscribe as other, |f| {
                        comms::UnsubscribeRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            source: "link".into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "SendMessage",
            vec![
                invalid(
                    "a subject on an sms",
                    send!(communications.send_message as admin, |f| {
                        comms::SendMessageRequest {
                            channel: comms::Channel::Sms.into(),
                            ..viewing(&f.contact)
                        }
                    }),
                ),
                invalid(
                    "empty body",
                    send!(communications.send_message as admin, |f| {
                        comms::SendMessageRequest {
                            body: String::new(),
                            ..viewing(&f.contact)
                        }
                    }),
                ),
                rule(
                    "message id already used",
                    send!(communications.send_message as admin, |f| {
                        comms::SendMessageRequest {
                            message_id: f.refused_message.clone(),
                            ..viewing(&f.contact)
                        }
                    }),
                ),
                rule(
                    "no consent for the channel",
                    send!(communications.send_message as admin, |f| viewing(
                        &f.contact
                    )),
                ),
                rule(
                    "the communications module is off",
                    send!(communications.send_message as dark, |f| viewing(
                        &random_id()
                    )),
                ),
            ],
        ),
        row(
            S,
            "RecordDelivery",
            vec![
                invalid(
                    "unspecified status",
                    send!(communications.record_delivery as admin, |f| {
                        comms::RecordDeliveryRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: f.refused_message.clone(),
                            status: comms::DeliveryStatus::Unspecified.into(),
                            detail: String::new(),
                            provider_event_id: "evt-invalid".into(),
                        }
                    }),
                ),
                invalid(
                    "empty provider event id",
                    send!(communications.record_delivery as admin, |f| {
                        comms::RecordDeliveryRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: f.refused_message.clone(),
                            status: comms::DeliveryStatus::Delivered.into(),
                            detail: String::new(),
                            provider_event_id: String::new(),
                        }
                    }),
                ),
                rule(
                    "the message was refused, never sent",
                    send!(communications.record_delivery as admin, |f| {
                        comms::RecordDeliveryRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: f.refused_message.clone(),
                            status: comms::DeliveryStatus::Delivered.into(),
                            detail: String::new(),
                            provider_event_id: "evt-refused".into(),
                        }
                    }),
                ),
                rule(
                    "a message of no one",
                    send!(communications.record_delivery as admin, |f| {
                        comms::RecordDeliveryRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: random_id(),
                            status: comms::DeliveryStatus::Delivered.into(),
                            detail: String::new(),
                            provider_event_id: "evt-unknown".into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "RecordReply",
            vec![
                invalid(
                    "message id that is no UUID",
                    send!(communications.record_reply as admin, |f| {
                        comms::RecordReplyRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: NOT_A_UUID.into(),
                            in_reply_to: String::new(),
                            conversation_id: random_id(),
                            channel: comms::Channel::Email.into(),
                            body: "Friday works.".into(),
                            provider_event_id: "evt-reply-invalid".into(),
                        }
                    }),
                ),
                rule(
                    "message id already used",
                    send!(communications.record_reply as admin, |f| {
                        comms::RecordReplyRequest {
                            command: command(),
                            contact_id: f.contact.clone(),
                            message_id: f.refused_message.clone(),
                            in_reply_to: String::new(),
                            conversation_id: random_id(),
                            channel: comms::Channel::Email.into(),
                            body: "Friday works.".into(),
                            provider_event_id: "evt-reply-duplicate".into(),
                        }
                    }),
                ),
            ],
        ),
        row(
            S,
            "ResumeCadence",
            vec![
                invalid(
                    "contact id that is no UUID",
                    send!(communications.resume_cadence as admin, |f| {
                        resume_cadence(NOT_A_UUID)
                    }),
                ),
                rule(
                    "the communications module is off",
                    send!(communications.resume_cadence as dark, |f| {
                        resume_cadence(&random_id())
                    }),
                ),
                rule(
                    "a viewer may not resume",
                    send!(communications.resume_cadence as viewer, |f| {
                        resume_cadence(&f.contact)
                    }),
                ),
            ],
        ),
        row(
            S,
            "ForgetContact",
            vec![
                invalid(
                    "contact id that is no UUID",
                    send!(communications.forget_contact as admin, |f| {
                        forget_contact(NOT_A_UUID)
                    }),
                ),
                rule(
                    "an agent may not forget contacts",
                    send!(communications.forget_contact as agent, |f| {
                        forget_contact(&f.contact)
                    }),
                ),
                rule(
                    "another tenant's contact is forgotten",
                    send!(communications.forget_contact as other, |f| {
                        forget_contact(&f.contact)
                    }),
                ),
                rule(
                    "a contact that does not exist is forgotten",
                    send!(communications.forget_contact as admin, |f| {
                        forget_contact(&random_id())
                    }),
                ),
            ],
        ),
    ]
}

/// Every RPC of every service in the compiled descriptor set, as
/// (service, rpc): the definitions the generated servers come from.
fn rpcs_of_the_protos() -> BTreeSet<(String, String)> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(deedlog_proto::FILE_DESCRIPTOR_SET)
        .expect("the build writes a valid descriptor set");
    set.file
        .iter()
        .flat_map(|file| &file.service)
        .flat_map(|service| {
            service
                .method
                .iter()
                .map(|method| (service.name().to_owned(), method.name().to_owned()))
        })
        .collect()
}

/// Reads change nothing, so they have no place in the table.
fn is_read(rpc: &str) -> bool {
    rpc.starts_with("Get") || rpc.starts_with("List")
}

#[test]
fn every_command_rpc_of_the_protos_has_a_row() {
    let commands: BTreeSet<(String, String)> = rpcs_of_the_protos()
        .into_iter()
        .filter(|(_, rpc)| !is_read(rpc))
        .collect();
    assert!(commands.len() >= 48, "found only {commands:?}");
    let rows = rows();
    let table: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.service.to_owned(), r.rpc.to_owned()))
        .collect();
    assert_eq!(table.len(), rows.len(), "one row per RPC");
    let missing: Vec<_> = commands.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&commands).collect();
    assert!(
        missing.is_empty(),
        "command RPCs without a row: {missing:?}"
    );
    assert!(unknown.is_empty(), "rows naming no RPC: {unknown:?}");
    for row in &rows {
        assert!(
            row.cases.iter().any(|c| c.kind == Kind::Invalid),
            "{} has no invalid input",
            row.rpc
        );
        let exempt = NO_RULE_TO_BREAK.iter().any(|(rpc, _)| *rpc == row.rpc);
        assert_eq!(
            row.cases.iter().any(|c| c.kind == Kind::Rule),
            !exempt,
            "{} needs a rule it breaks, or an entry in NO_RULE_TO_BREAK (not both)",
            row.rpc
        );
    }
    for (rpc, what, _) in RECORDED_REFUSALS.iter() {
        assert!(
            rows.iter()
                .any(|r| r.rpc == *rpc && r.cases.iter().any(|c| c.what == *what)),
            "RECORDED_REFUSALS names {rpc}: {what}, which is no case"
        );
    }
}

#[tokio::test]
async fn no_refused_command_of_any_service_appends_anything() {
    let cluster = TestCluster::start().await;
    let fixture = fixture(&cluster).await;
    let mut problems = vec![];
    let mut ran = 0;
    for row in rows() {
        for case in &row.cases {
            let name = format!(
                "{}.{}: {} ({:?})",
                row.service, row.rpc, case.what, case.kind
            );
            let before = LogCounts::of(&cluster).await;
            let answer = (case.call)(fixture.clone()).await;
            let after = LogCounts::of(&cluster).await;
            ran += 1;
            match &answer {
                Ok(()) => problems.push(format!("{name}: was not refused")),
                // A refusal is an answer the caller can act on, never an internal failure.
                Err(status) if matches!(status.code(), Code::Internal | Code::Unknown) => {
                    problems.push(format!("{name}: answered {status:?}"))
                }
                // A rule's refusal and a conflict say why for programs too (docs/errors.md).
                Err(status)
                    if matches!(status.code(), Code::FailedPrecondition | Code::Aborted)
                        && status.get_error_details().error_info().is_none() =>
                {
                    problems.push(format!("{name}: no ErrorInfo reason in {status:?}"))
                }
                Err(_) => {}
            }
            let appended = before.appended_since(&cluster).await;
            let recorded = RECORDED_REFUSALS
                .iter()
                .find(|(rpc, what, _)| *rpc == row.rpc && *what == case.what);
            let known = KNOWN_DEFECTS
                .iter()
                .any(|(rpc, what)| *rpc == row.rpc && *what == case.what);
            match recorded {
                Some((_, _, allowed)) => {
                    if appended.is_empty()
                        || appended.iter().any(|t| !allowed.contains(&t.as_str()))
                        || after.tenants != before.tenants
                    {
                        problems.push(format!(
                            "{name}: a recorded refusal must append exactly {allowed:?}, \
                             appended {appended:?} ({before:?} -> {after:?})"
                        ));
                    }
                }
                None if after == before && known => problems.push(format!(
                    "{name}: appends nothing now; remove it from KNOWN_DEFECTS"
                )),
                None if after == before || known => {}
                None => problems.push(format!(
                    "{name}: appended {appended:?} ({before:?} -> {after:?})"
                )),
            }
        }
    }
    assert!(ran >= 100, "only {ran} cases ran");
    assert!(
        problems.is_empty(),
        "{} of {ran} refusals went wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
