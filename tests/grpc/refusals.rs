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
use deedlog_tests::{Clients, LogCounts, Session, TestCluster};
use futures::future::{BoxFuture, FutureExt};
use std::collections::BTreeSet;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

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

fn eur(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "EUR".into(),
    })
}

fn usd(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "USD".into(),
    })
}

fn address() -> Option<props::Address> {
    Some(props::Address {
        street: "Lindenstraße 5".into(),
        postal_code: "10969".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        latitude: None,
        longitude: None,
    })
}

fn new_property() -> props::CreatePropertyRequest {
    props::CreatePropertyRequest {
        command: command(),
        address: address(),
        kind: props::PropertyKind::Apartment.into(),
        asking_price: eur(45_000_000),
        ..Default::default()
    }
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

const NOT_A_UUID: &str = "not-a-uuid";

fn random_id() -> String {
    Uuid::now_v7().to_string()
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
        .refresh(tenancy::RefreshRequest {
            refresh_token: rotated.refresh.clone(),
        })
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
            .set_module(dark.request(tenancy::SetModuleRequest {
                command: command(),
                module: module.into(),
                enabled: false,
            }))
            .await
            .expect("switch a module off");
    }
    let frozen = c.register("frozen").await;
    c.tenancy
        .suspend_tenant(frozen.request(tenancy::SuspendTenantRequest {
            command: command(),
            tenant_id: frozen.tenant_id.clone(),
        }))
        .await
        .expect("suspend");

    let property = c
        .properties
        .create_property(agent.request(new_property()))
        .await
        .expect("property")
        .into_inner()
        .record_id;
    let archived = c
        .properties
        .create_property(agent.request(new_property()))
        .await
        .expect("property to archive")
        .into_inner()
        .record_id;
    c.properties
        .archive_property(agent.request(props::ArchivePropertyRequest {
            command: command(),
            property_id: archived.clone(),
        }))
        .await
        .expect("archive");

    let contact = c
        .communications
        .create_contact(admin.request(comms::CreateContactRequest {
            command: command(),
            contact_id: String::new(),
            details: details("Clara Voss", "clara@example.com"),
        }))
        .await
        .expect("contact")
        .into_inner()
        .record_id;
    let refused_message = random_id();
    let status = c
        .communications
        .send_message(admin.request(comms::SendMessageRequest {
            command: command(),
            contact_id: contact.clone(),
            message_id: refused_message.clone(),
            channel: comms::Channel::Email.into(),
            subject: "Lindenstraße 5".into(),
            body: "The viewing is on Friday.".into(),
            ..Default::default()
        }))
        .await
        .expect_err("no consent yet");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let deal = c
        .deals
        .open_deal(agent.request(new_deal(&property, &contact)))
        .await
        .expect("deal")
        .into_inner()
        .record_id;
    let scenario_id = random_id();
    c.deals
        .add_scenario(agent.request(scenario(&deal, &scenario_id, "cash")))
        .await
        .expect("scenario");
    let lost_deal = c
        .deals
        .open_deal(agent.request(new_deal(&property, &contact)))
        .await
        .expect("deal to lose")
        .into_inner()
        .record_id;
    c.deals
        .lose_deal(agent.request(deals::LoseDealRequest {
            command: command(),
            deal_id: lost_deal.clone(),
            reason: "the buyer bought elsewhere".into(),
        }))
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
                    async move {
                        c.tenancy
                            .refresh(tenancy::RefreshRequest {
                                refresh_token: "garbage".into(),
                            })
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("refresh token already exchanged", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .refresh(tenancy::RefreshRequest {
                                refresh_token: f.rotated_refresh.clone(),
                            })
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("refresh token revoked by logout", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .refresh(tenancy::RefreshRequest {
                                refresh_token: f.revoked_refresh.clone(),
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
                invalid("empty name", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .rename_tenant(f.admin.request(tenancy::RenameTenantRequest {
                                command: command(),
                                name: "  ".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not rename", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .rename_tenant(f.viewer.request(tenancy::RenameTenantRequest {
                                command: command(),
                                name: "Viewer Immobilien".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a suspended tenant accepts no commands", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .rename_tenant(f.frozen.request(tenancy::RenameTenantRequest {
                                command: command(),
                                name: "Frozen Immobilien".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SuspendTenant",
            vec![
                invalid("tenant id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .suspend_tenant(f.admin.request(tenancy::SuspendTenantRequest {
                                command: command(),
                                tenant_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("another tenant", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .suspend_tenant(f.admin.request(tenancy::SuspendTenantRequest {
                                command: command(),
                                tenant_id: f.other.tenant_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("an agent may not suspend", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .suspend_tenant(f.agent.request(tenancy::SuspendTenantRequest {
                                command: command(),
                                tenant_id: f.agent.tenant_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ReactivateTenant",
            vec![
                invalid("tenant id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .reactivate_tenant(f.admin.request(tenancy::ReactivateTenantRequest {
                                command: command(),
                                tenant_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the tenant is not suspended", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .reactivate_tenant(f.admin.request(tenancy::ReactivateTenantRequest {
                                command: command(),
                                tenant_id: f.admin.tenant_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("another, suspended tenant", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .reactivate_tenant(f.admin.request(tenancy::ReactivateTenantRequest {
                                command: command(),
                                tenant_id: f.frozen.tenant_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetModule",
            vec![
                invalid("unspecified module", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_module(f.admin.request(tenancy::SetModuleRequest {
                                command: command(),
                                module: tenancy::Module::Unspecified.into(),
                                enabled: false,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("module number out of range", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_module(f.admin.request(tenancy::SetModuleRequest {
                                command: command(),
                                module: 99,
                                enabled: false,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("an agent may not switch modules", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_module(f.agent.request(tenancy::SetModuleRequest {
                                command: command(),
                                module: tenancy::Module::Deals.into(),
                                enabled: false,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetCommunicationSettings",
            vec![
                invalid("unknown time zone", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_communication_settings(f.admin.request(
                                tenancy::SetCommunicationSettingsRequest {
                                    command: command(),
                                    time_zone: "Mars/Olympus_Mons".into(),
                                    cadence_limit: 3,
                                    cadence_window_days: 7,
                                },
                            ))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("a cadence window of zero days", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_communication_settings(f.admin.request(
                                tenancy::SetCommunicationSettingsRequest {
                                    command: command(),
                                    time_zone: "Europe/Berlin".into(),
                                    cadence_limit: 3,
                                    cadence_window_days: 0,
                                },
                            ))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("an agent may not change settings", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .set_communication_settings(f.agent.request(
                                tenancy::SetCommunicationSettingsRequest {
                                    command: command(),
                                    time_zone: "Europe/Berlin".into(),
                                    cadence_limit: 3,
                                    cadence_window_days: 7,
                                },
                            ))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "InviteUser",
            vec![
                invalid("email without @", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .invite_user(f.admin.request(tenancy::InviteUserRequest {
                                command: command(),
                                email: "not-an-email".into(),
                                display_name: "Nina".into(),
                                role: tenancy::Role::Agent.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("unspecified role", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .invite_user(f.admin.request(tenancy::InviteUserRequest {
                                command: command(),
                                email: "nina@berg.example".into(),
                                display_name: "Nina".into(),
                                role: tenancy::Role::Unspecified.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("email already a user", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .invite_user(f.admin.request(tenancy::InviteUserRequest {
                                command: command(),
                                email: f.viewer_email.clone(),
                                display_name: "Vic again".into(),
                                role: tenancy::Role::Agent.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("an agent may not invite", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .invite_user(f.agent.request(tenancy::InviteUserRequest {
                                command: command(),
                                email: "nina@berg.example".into(),
                                display_name: "Nina".into(),
                                role: tenancy::Role::Admin.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ChangeRole",
            vec![
                invalid("user id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .change_role(f.admin.request(tenancy::ChangeRoleRequest {
                                command: command(),
                                user_id: NOT_A_UUID.into(),
                                role: tenancy::Role::Manager.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the last active admin demotes themself", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .change_role(f.admin.request(tenancy::ChangeRoleRequest {
                                command: command(),
                                user_id: f.admin.user_id.clone(),
                                role: tenancy::Role::Agent.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a user of another tenant", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .change_role(f.admin.request(tenancy::ChangeRoleRequest {
                                command: command(),
                                user_id: f.other.user_id.clone(),
                                role: tenancy::Role::Viewer.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "DeactivateUser",
            vec![
                invalid("user id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .deactivate_user(f.admin.request(tenancy::DeactivateUserRequest {
                                command: command(),
                                user_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the last active admin deactivates themself", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .deactivate_user(f.admin.request(tenancy::DeactivateUserRequest {
                                command: command(),
                                user_id: f.admin.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not deactivate", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.tenancy
                            .deactivate_user(f.viewer.request(tenancy::DeactivateUserRequest {
                                command: command(),
                                user_id: f.agent.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
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
                invalid("no address", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = props::CreatePropertyRequest {
                            address: None,
                            ..new_property()
                        };
                        c.properties
                            .create_property(f.agent.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("negative asking price", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = props::CreatePropertyRequest {
                            asking_price: eur(-1),
                            ..new_property()
                        };
                        c.properties
                            .create_property(f.agent.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property id already exists", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = props::CreatePropertyRequest {
                            property_id: f.property.clone(),
                            ..new_property()
                        };
                        c.properties
                            .create_property(f.agent.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not create", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .create_property(f.viewer.request(new_property()))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the properties module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .create_property(f.dark.request(new_property()))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the tenant is suspended", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .create_property(f.frozen.request(new_property()))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ChangeAddress",
            vec![
                invalid("country that is no ISO code", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_address(f.agent.request(props::ChangeAddressRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                address: address().map(|a| props::Address {
                                    country: "Germany".into(),
                                    ..a
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("latitude out of range", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_address(f.agent.request(props::ChangeAddressRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                address: address().map(|a| props::Address {
                                    latitude: Some(123.0),
                                    longitude: Some(13.4),
                                    ..a
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_address(f.agent.request(props::ChangeAddressRequest {
                                command: command(),
                                property_id: f.archived.clone(),
                                address: address().map(|a| props::Address {
                                    street: "Lindenstraße 9".into(),
                                    ..a
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ChangeAttributes",
            vec![
                invalid("negative number of rooms", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_attributes(f.agent.request(props::ChangeAttributesRequest {
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
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_attributes(f.agent.request(props::ChangeAttributesRequest {
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
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ChangeAskingPrice",
            vec![
                invalid("currency that is no ISO code", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_asking_price(f.agent.request(props::ChangeAskingPriceRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                asking_price: Some(Money {
                                    amount_minor: 100,
                                    currency: "euro".into(),
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("another currency than the property's", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_asking_price(f.agent.request(props::ChangeAskingPriceRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                asking_price: usd(50_000_000),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RecordValuation",
            vec![
                invalid("confidence over 100 %", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .record_valuation(f.agent.request(props::RecordValuationRequest {
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
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("the 31st of February", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .record_valuation(f.agent.request(props::RecordValuationRequest {
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
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .record_valuation(f.agent.request(props::RecordValuationRequest {
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
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ChangeListingStatus",
            vec![
                invalid("unspecified status", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_listing_status(f.agent.request(
                                props::ChangeListingStatusRequest {
                                    command: command(),
                                    property_id: f.property.clone(),
                                    status: props::ListingStatus::Unspecified.into(),
                                },
                            ))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("draft straight to sold", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .change_listing_status(f.agent.request(
                                props::ChangeListingStatusRequest {
                                    command: command(),
                                    property_id: f.property.clone(),
                                    status: props::ListingStatus::Sold.into(),
                                },
                            ))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "AssignAgent",
            vec![
                invalid("agent id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .assign_agent(f.admin.request(props::AssignAgentRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                agent_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer cannot be the agent", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .assign_agent(f.admin.request(props::AssignAgentRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                agent_id: f.viewer.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a user of another tenant cannot be the agent", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .assign_agent(f.admin.request(props::AssignAgentRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                agent_id: f.other.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetOwner",
            vec![
                invalid("owner id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .set_owner(f.agent.request(props::SetOwnerRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                owner_contact_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .set_owner(f.agent.request(props::SetOwnerRequest {
                                command: command(),
                                property_id: f.archived.clone(),
                                owner_contact_id: f.contact.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "AddTag",
            vec![
                invalid("empty tag", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .add_tag(f.agent.request(props::TagRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                tag: " ".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .add_tag(f.agent.request(props::TagRequest {
                                command: command(),
                                property_id: f.archived.clone(),
                                tag: "garden".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RemoveTag",
            vec![
                invalid("empty tag", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .remove_tag(f.agent.request(props::TagRequest {
                                command: command(),
                                property_id: f.property.clone(),
                                tag: String::new(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .remove_tag(f.agent.request(props::TagRequest {
                                command: command(),
                                property_id: f.archived.clone(),
                                tag: "balcony".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ArchiveProperty",
            vec![
                invalid("property id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .archive_property(f.agent.request(props::ArchivePropertyRequest {
                                command: command(),
                                property_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("already archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .archive_property(f.agent.request(props::ArchivePropertyRequest {
                                command: command(),
                                property_id: f.archived.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a property that does not exist", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .archive_property(f.agent.request(props::ArchivePropertyRequest {
                                command: command(),
                                property_id: random_id(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RestoreProperty",
            vec![
                invalid("empty property id", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .restore_property(f.agent.request(props::RestorePropertyRequest {
                                command: command(),
                                property_id: String::new(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the property is not archived", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.properties
                            .restore_property(f.agent.request(props::RestorePropertyRequest {
                                command: command(),
                                property_id: f.property.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
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
                rule("the deals module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .open_deal(f.dark.request(new_deal(&f.property, &f.contact)))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "MoveStage",
            vec![
                invalid("unspecified stage", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .move_stage(f.agent.request(deals::MoveStageRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                stage: deals::Stage::Unspecified.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("lead straight to offer", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .move_stage(f.agent.request(deals::MoveStageRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                stage: deals::Stage::Offer.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .move_stage(f.agent.request(deals::MoveStageRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                stage: deals::Stage::Qualified.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "WinDeal",
            vec![
                invalid("no final price", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .win_deal(f.agent.request(deals::WinDealRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                final_price: None,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is already closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .win_deal(f.agent.request(deals::WinDealRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                final_price: eur(41_000_000),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "LoseDeal",
            vec![
                invalid("empty reason", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .lose_deal(f.agent.request(deals::LoseDealRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                reason: String::new(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is already closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .lose_deal(f.agent.request(deals::LoseDealRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                reason: "lost twice".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetOffer",
            vec![
                invalid("negative offer", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_offer(f.agent.request(deals::SetOfferRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                offer: eur(-1),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("another currency than the deal's", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_offer(f.agent.request(deals::SetOfferRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                offer: usd(40_000_000),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_offer(f.agent.request(deals::SetOfferRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                offer: eur(40_500_000),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetCommission",
            vec![
                invalid("currency that is no ISO code", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_commission(f.agent.request(deals::SetCommissionRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                commission: Some(Money {
                                    amount_minor: 100,
                                    currency: "E".into(),
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_commission(f.agent.request(deals::SetCommissionRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                commission: eur(1_000_000),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetProbability",
            vec![
                invalid("150 %", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_probability(f.agent.request(deals::SetProbabilityRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                probability_pct: Some(150),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_probability(f.agent.request(deals::SetProbabilityRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                probability_pct: Some(50),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetExpectedClose",
            vec![
                invalid("month 13", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_expected_close(f.agent.request(deals::SetExpectedCloseRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                expected_close: Some(Date {
                                    year: 2027,
                                    month: 13,
                                    day: 1,
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .set_expected_close(f.agent.request(deals::SetExpectedCloseRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                expected_close: Some(Date {
                                    year: 2027,
                                    month: 3,
                                    day: 1,
                                }),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ReassignDeal",
            vec![
                invalid("agent id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reassign_deal(f.admin.request(deals::ReassignDealRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                agent_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer cannot be the agent", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reassign_deal(f.admin.request(deals::ReassignDealRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                agent_id: f.viewer.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reassign_deal(f.admin.request(deals::ReassignDealRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                                agent_id: f.admin.user_id.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ReopenDeal",
            vec![
                invalid("deal id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reopen_deal(f.admin.request(deals::ReopenDealRequest {
                                command: command(),
                                deal_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("an agent may not reopen", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reopen_deal(f.agent.request(deals::ReopenDealRequest {
                                command: command(),
                                deal_id: f.lost_deal.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is open", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .reopen_deal(f.admin.request(deals::ReopenDealRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "AddScenario",
            vec![
                invalid("empty name", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .add_scenario(f.agent.request(scenario(&f.deal, &random_id(), "")))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("scenario id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .add_scenario(f.agent.request(scenario(&f.deal, NOT_A_UUID, "cash")))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the deal is closed", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .add_scenario(f.agent.request(scenario(
                                &f.lost_deal,
                                &random_id(),
                                "cash",
                            )))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "UpdateScenario",
            vec![
                invalid("empty name", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .update_scenario(f.agent.request(scenario(&f.deal, &f.scenario, "")))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("no such scenario", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .update_scenario(f.agent.request(scenario(
                                &f.deal,
                                &random_id(),
                                "loan",
                            )))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RemoveScenario",
            vec![
                invalid("scenario id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .remove_scenario(f.agent.request(deals::RemoveScenarioRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                scenario_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("no such scenario", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.deals
                            .remove_scenario(f.agent.request(deals::RemoveScenarioRequest {
                                command: command(),
                                deal_id: f.deal.clone(),
                                scenario_id: random_id(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
    ]
}

fn communications_rows() -> Vec<Row> {
    const S: &str = "CommunicationsService";
    fn email(contact: &str) -> comms::SendMessageRequest {
        comms::SendMessageRequest {
            command: command(),
            contact_id: contact.into(),
            channel: comms::Channel::Email.into(),
            subject: "Lindenstraße 5".into(),
            body: "The viewing is on Friday.".into(),
            ..Default::default()
        }
    }
    vec![
        row(
            S,
            "CreateContact",
            vec![
                invalid("email without @", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .create_contact(f.admin.request(comms::CreateContactRequest {
                                command: command(),
                                contact_id: String::new(),
                                details: details("Clara Voss", "clara-at-example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("no details", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .create_contact(f.admin.request(comms::CreateContactRequest {
                                command: command(),
                                contact_id: String::new(),
                                details: None,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the contact id already exists", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .create_contact(f.admin.request(comms::CreateContactRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                details: details("Clara Voss", "clara@example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the communications module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .create_contact(f.dark.request(comms::CreateContactRequest {
                                command: command(),
                                contact_id: String::new(),
                                details: details("Clara Voss", "clara@example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "UpdateContact",
            vec![
                invalid("empty name", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .update_contact(f.admin.request(comms::UpdateContactRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                details: details("", "clara@example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not change contacts", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .update_contact(f.viewer.request(comms::UpdateContactRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                details: details("Clara Voss-Berg", "clara@example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a contact that does not exist", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .update_contact(f.admin.request(comms::UpdateContactRequest {
                                command: command(),
                                contact_id: random_id(),
                                details: details("Clara Voss", "clara@example.com"),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "GrantConsent",
            vec![
                invalid("unspecified channel", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .grant_consent(f.admin.request(comms::GrantConsentRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                channel: comms::Channel::Unspecified.into(),
                                lawful_basis: comms::LawfulBasis::Consent.into(),
                                source: "web form".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("unspecified lawful basis", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .grant_consent(f.admin.request(comms::GrantConsentRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                channel: comms::Channel::Email.into(),
                                lawful_basis: comms::LawfulBasis::Unspecified.into(),
                                source: "web form".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not grant consent", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .grant_consent(f.viewer.request(comms::GrantConsentRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                channel: comms::Channel::Email.into(),
                                lawful_basis: comms::LawfulBasis::Consent.into(),
                                source: "web form".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "WithdrawConsent",
            vec![
                invalid("contact id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .withdraw_consent(f.admin.request(comms::WithdrawConsentRequest {
                                command: command(),
                                contact_id: NOT_A_UUID.into(),
                                channel: comms::Channel::Email.into(),
                                source: "phone call".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the communications module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .withdraw_consent(f.dark.request(comms::WithdrawConsentRequest {
                                command: command(),
                                contact_id: random_id(),
                                channel: comms::Channel::Email.into(),
                                source: "phone call".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SetDoNotCall",
            vec![
                invalid("empty contact id", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .set_do_not_call(f.admin.request(comms::SetDoNotCallRequest {
                                command: command(),
                                contact_id: String::new(),
                                do_not_call: true,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the tenant is suspended", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .set_do_not_call(f.frozen.request(comms::SetDoNotCallRequest {
                                command: command(),
                                contact_id: random_id(),
                                do_not_call: true,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not change contacts", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .set_do_not_call(f.viewer.request(comms::SetDoNotCallRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                do_not_call: true,
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "Unsubscribe",
            vec![
                invalid("contact id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .unsubscribe(f.admin.request(comms::UnsubscribeRequest {
                                command: command(),
                                contact_id: NOT_A_UUID.into(),
                                source: "link".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a contact of another tenant", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .unsubscribe(f.other.request(comms::UnsubscribeRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                source: "link".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "SendMessage",
            vec![
                invalid("a subject on an sms", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = comms::SendMessageRequest {
                            channel: comms::Channel::Sms.into(),
                            ..email(&f.contact)
                        };
                        c.communications
                            .send_message(f.admin.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("empty body", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = comms::SendMessageRequest {
                            body: String::new(),
                            ..email(&f.contact)
                        };
                        c.communications
                            .send_message(f.admin.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("message id already used", |f| {
                    let mut c = f.c.clone();
                    async move {
                        let request = comms::SendMessageRequest {
                            message_id: f.refused_message.clone(),
                            ..email(&f.contact)
                        };
                        c.communications
                            .send_message(f.admin.request(request))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("no consent for the channel", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .send_message(f.admin.request(email(&f.contact)))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the communications module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .send_message(f.dark.request(email(&random_id())))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RecordDelivery",
            vec![
                invalid("unspecified status", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_delivery(f.admin.request(comms::RecordDeliveryRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: f.refused_message.clone(),
                                status: comms::DeliveryStatus::Unspecified.into(),
                                detail: String::new(),
                                provider_event_id: "evt-invalid".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                invalid("empty provider event id", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_delivery(f.admin.request(comms::RecordDeliveryRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: f.refused_message.clone(),
                                status: comms::DeliveryStatus::Delivered.into(),
                                detail: String::new(),
                                provider_event_id: String::new(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the message was refused, never sent", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_delivery(f.admin.request(comms::RecordDeliveryRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: f.refused_message.clone(),
                                status: comms::DeliveryStatus::Delivered.into(),
                                detail: String::new(),
                                provider_event_id: "evt-refused".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a message of no one", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_delivery(f.admin.request(comms::RecordDeliveryRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: random_id(),
                                status: comms::DeliveryStatus::Delivered.into(),
                                detail: String::new(),
                                provider_event_id: "evt-unknown".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "RecordReply",
            vec![
                invalid("message id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_reply(f.admin.request(comms::RecordReplyRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: NOT_A_UUID.into(),
                                in_reply_to: String::new(),
                                conversation_id: random_id(),
                                channel: comms::Channel::Email.into(),
                                body: "Friday works.".into(),
                                provider_event_id: "evt-reply-invalid".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("message id already used", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .record_reply(f.admin.request(comms::RecordReplyRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                                message_id: f.refused_message.clone(),
                                in_reply_to: String::new(),
                                conversation_id: random_id(),
                                channel: comms::Channel::Email.into(),
                                body: "Friday works.".into(),
                                provider_event_id: "evt-reply-duplicate".into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
        row(
            S,
            "ResumeCadence",
            vec![
                invalid("contact id that is no UUID", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .resume_cadence(f.admin.request(comms::ResumeCadenceRequest {
                                command: command(),
                                contact_id: NOT_A_UUID.into(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("the communications module is off", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .resume_cadence(f.dark.request(comms::ResumeCadenceRequest {
                                command: command(),
                                contact_id: random_id(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
                rule("a viewer may not resume", |f| {
                    let mut c = f.c.clone();
                    async move {
                        c.communications
                            .resume_cadence(f.viewer.request(comms::ResumeCadenceRequest {
                                command: command(),
                                contact_id: f.contact.clone(),
                            }))
                            .await
                            .map(drop)
                    }
                    .boxed()
                }),
            ],
        ),
    ]
}

/// Every `rpc` of every `service` in `proto/deedlog/*/v1/*.proto`, as
/// (service, rpc): the definitions the generated servers come from.
fn rpcs_of_the_protos() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/deedlog");
    let mut rpcs = BTreeSet::new();
    for context in std::fs::read_dir(&root).expect("read proto/deedlog") {
        let dir = context.expect("a context folder").path().join("v1");
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for file in files {
            let path = file.expect("a proto file").path();
            if path.extension().and_then(|e| e.to_str()) != Some("proto") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read a proto file");
            let mut service = None;
            for line in text.lines().map(str::trim) {
                if let Some(rest) = line.strip_prefix("service ") {
                    service = rest.split_whitespace().next().map(str::to_owned);
                } else if let Some(rest) = line.strip_prefix("rpc ") {
                    let name = rest.split('(').next().expect("split").trim().to_owned();
                    let service = service.clone().expect("an rpc inside a service");
                    rpcs.insert((service, name));
                }
            }
        }
    }
    rpcs
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
