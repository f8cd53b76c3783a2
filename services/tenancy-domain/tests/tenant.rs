//! Given/when/then for the tenant aggregate.

use deedlog_kernel::{Decider, DeciderSpec, UserId};
use deedlog_tenancy_domain::tenant::{Action, Error, Event, NewUser, Tenants, UserStatus};
use deedlog_tenancy_domain::{Module, Role};
use std::collections::BTreeSet;
use uuid::Uuid;

type Spec = DeciderSpec<Tenants>;

fn user(n: u128, email: &str) -> NewUser {
    NewUser {
        id: UserId::from_uuid(Uuid::from_u128(n)),
        email: email.into(),
        display_name: format!("User {n}"),
    }
}

fn id(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn registered() -> Event {
    Event::TenantRegistered {
        name: "Berg Immobilien".into(),
        slug: "berg-immobilien".into(),
        modules: Module::ALL.into_iter().collect(),
        first_admin: user(1, "anna@berg.example"),
    }
}

fn invited(n: u128, email: &str, role: Role) -> Event {
    Event::UserInvited {
        user: user(n, email),
        role,
    }
}

#[test]
fn registering_makes_the_first_user_an_active_admin_with_every_module() {
    Spec::given_nothing()
        .when(Action::Register {
            name: " Berg Immobilien ".into(),
            slug: "berg-immobilien".into(),
            first_admin: user(1, "Anna@Berg.example"),
        })
        .then_events(vec![registered()]);
    let tenant = deedlog_kernel::replay::<Tenants>(&[registered()])
        .0
        .expect("tenant");
    assert_eq!(tenant.members[&id(1)].status, UserStatus::Active);
    assert_eq!(tenant.members[&id(1)].role, Role::Admin);
    Spec::given(vec![registered()])
        .when(Action::Register {
            name: "x".into(),
            slug: "xyz".into(),
            first_admin: user(2, "b@c.de"),
        })
        .then_error(Error::AlreadyExists);
}

#[test]
fn bad_slugs_names_and_emails_are_refused() {
    for slug in ["ab", "Berg", "berg--x", "-berg", "berg_x"] {
        let result = deedlog_tenancy_domain::tenant::decide(
            &Default::default(),
            &Action::Register {
                name: "n".into(),
                slug: slug.into(),
                first_admin: user(1, "a@b.de"),
            },
        );
        assert!(
            matches!(result, Err(Error::Invalid { field: "slug", .. })),
            "{slug}"
        );
    }
    for email in ["anna", "anna@", "@berg.de", "anna@berg", "a@b@c.de"] {
        Spec::given(vec![registered()])
            .when(Action::Invite {
                user: user(2, email),
                role: Role::Agent,
                by: Role::Admin,
            })
            .then_error(Error::Invalid {
                field: "email",
                reason: "must be an email address such as anna@example.com".into(),
            });
    }
}

#[test]
fn emails_are_unique_within_the_tenant() {
    Spec::given(vec![registered()])
        .when(Action::Invite {
            user: user(2, " ANNA@berg.example"),
            role: Role::Agent,
            by: Role::Admin,
        })
        .then_error(Error::EmailTaken {
            email: "anna@berg.example".into(),
        });
}

#[test]
fn admins_grant_any_role_managers_only_agents_and_viewers() {
    let granted = [
        (Role::Admin, Role::Admin),
        (Role::Manager, Role::Admin),
        (Role::Agent, Role::Admin),
        (Role::Viewer, Role::Admin),
        (Role::Auditor, Role::Admin),
        (Role::Agent, Role::Manager),
        (Role::Viewer, Role::Manager),
    ];
    for (role, by) in granted {
        Spec::given(vec![registered()])
            .when(Action::Invite {
                user: user(2, "ben@berg.example"),
                role,
                by,
            })
            .then_events(vec![invited(2, "ben@berg.example", role)]);
    }
    for (role, by) in [
        (Role::Manager, Role::Manager),
        (Role::Admin, Role::Manager),
        (Role::Viewer, Role::Agent),
        (Role::Viewer, Role::Auditor),
    ] {
        Spec::given(vec![registered()])
            .when(Action::Invite {
                user: user(2, "ben@berg.example"),
                role,
                by,
            })
            .then_error(Error::MayNotGrant { by, role });
    }
}

#[test]
fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    Spec::given(vec![registered()])
        .when(Action::Deactivate(id(1)))
        .then_error(Error::LastActiveAdmin);
    Spec::given(vec![registered()])
        .when(Action::ChangeRole {
            user: id(1),
            role: Role::Manager,
            by: Role::Admin,
        })
        .then_error(Error::LastActiveAdmin);
    // An invited (not yet active) admin does not count.
    let history = vec![registered(), invited(2, "ben@berg.example", Role::Admin)];
    Spec::given(history.clone())
        .when(Action::Deactivate(id(1)))
        .then_error(Error::LastActiveAdmin);
    let mut with_second = history;
    with_second.push(Event::UserActivated { user: id(2) });
    Spec::given(with_second)
        .when(Action::Deactivate(id(1)))
        .then_events(vec![Event::UserDeactivated { user: id(1) }]);
}

#[test]
fn a_manager_cannot_change_an_admin() {
    let history = vec![
        registered(),
        invited(2, "ben@berg.example", Role::Admin),
        Event::UserActivated { user: id(2) },
    ];
    Spec::given(history)
        .when(Action::ChangeRole {
            user: id(2),
            role: Role::Agent,
            by: Role::Manager,
        })
        .then_error(Error::MayNotGrant {
            by: Role::Manager,
            role: Role::Admin,
        });
}

#[test]
fn users_move_from_invited_to_active_to_deactivated() {
    let history = vec![registered(), invited(2, "ben@berg.example", Role::Agent)];
    Spec::given(history.clone())
        .when(Action::Activate(id(2)))
        .then_events(vec![Event::UserActivated { user: id(2) }]);
    let mut active = history.clone();
    active.push(Event::UserActivated { user: id(2) });
    Spec::given(active)
        .when(Action::Activate(id(2)))
        .then_error(Error::InvitationUsed);
    let mut deactivated = history;
    deactivated.push(Event::UserDeactivated { user: id(2) });
    Spec::given(deactivated.clone())
        .when(Action::Activate(id(2)))
        .then_error(Error::WrongUserStatus {
            user: id(2),
            status: UserStatus::Deactivated,
            action: "activation",
        });
    Spec::given(deactivated)
        .when(Action::Deactivate(id(2)))
        .then_events(vec![]);
    Spec::given(vec![registered()])
        .when(Action::Activate(id(9)))
        .then_error(Error::UnknownUser(id(9)));
}

#[test]
fn a_suspended_tenant_accepts_nothing_but_reactivation() {
    let suspended = vec![registered(), Event::TenantSuspended {}];
    for action in [
        Action::Rename("New".into()),
        Action::Invite {
            user: user(2, "ben@berg.example"),
            role: Role::Agent,
            by: Role::Admin,
        },
        Action::DisableModule(Module::Deals),
        Action::Suspend,
    ] {
        Spec::given(suspended.clone())
            .when(action)
            .then_error(Error::Suspended);
    }
    Spec::given(suspended)
        .when(Action::Reactivate)
        .then_events(vec![Event::TenantReactivated {}]);
    Spec::given(vec![registered()])
        .when(Action::Reactivate)
        .then_error(Error::NotSuspended);
}

#[test]
fn modules_switch_on_and_off_once() {
    Spec::given(vec![registered()])
        .when(Action::DisableModule(Module::Communications))
        .then_events(vec![Event::ModuleDisabled {
            module: Module::Communications,
        }]);
    Spec::given(vec![registered()])
        .when(Action::EnableModule(Module::Deals))
        .then_events(vec![]);
    let off = vec![
        registered(),
        Event::ModuleDisabled {
            module: Module::Deals,
        },
    ];
    let tenant = deedlog_kernel::replay::<Tenants>(&off).0.expect("tenant");
    assert_eq!(
        tenant.modules,
        BTreeSet::from([
            Module::Properties,
            Module::Communications,
            Module::Analytics
        ])
    );
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = vec![
        registered(),
        Event::TenantRenamed { name: "n".into() },
        Event::TenantSuspended {},
        Event::TenantReactivated {},
        Event::ModuleEnabled {
            module: Module::Deals,
        },
        Event::ModuleDisabled {
            module: Module::Deals,
        },
        invited(2, "b@c.de", Role::Viewer),
        Event::UserActivated { user: id(2) },
        Event::UserRoleChanged {
            user: id(2),
            from: Role::Viewer,
            to: Role::Agent,
        },
        Event::UserDeactivated { user: id(2) },
        Event::UserForgotten { user: id(2) },
    ];
    for event in events {
        let (event_type, payload) = deedlog_kernel::codec::encode(&event).expect("encodes");
        assert_eq!(
            deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string())
                .expect("decodes"),
            event
        );
    }
}

mod forgetting {
    use super::*;
    use deedlog_kernel::privacy::ERASED;
    use deedlog_kernel::{Reason, Refusal, RefusalKind};
    use deedlog_tenancy_domain::personal::FORGETTING;

    fn ben(more: impl IntoIterator<Item = Event>) -> Vec<Event> {
        let mut history = vec![
            registered(),
            invited(2, "ben@berg.example", Role::Agent),
            Event::UserActivated { user: id(2) },
        ];
        history.extend(more);
        history
    }

    fn deactivated() -> Vec<Event> {
        ben([Event::UserDeactivated { user: id(2) }])
    }

    fn forgotten() -> Vec<Event> {
        ben([
            Event::UserDeactivated { user: id(2) },
            Event::UserForgotten { user: id(2) },
        ])
    }

    #[test]
    fn only_a_deactivated_user_is_forgotten() {
        Spec::given(deactivated())
            .when(Action::Forget { user: id(2) })
            .then_events(vec![Event::UserForgotten { user: id(2) }]);
        Spec::given(ben([]))
            .when(Action::Forget { user: id(2) })
            .then_error(Error::NotDeactivated(id(2)));
        Spec::given(vec![
            registered(),
            invited(2, "ben@berg.example", Role::Agent),
        ])
        .when(Action::Forget { user: id(2) })
        .then_error(Error::NotDeactivated(id(2)));
        Spec::given(vec![registered()])
            .when(Action::Forget { user: id(9) })
            .then_error(Error::UnknownUser(id(9)));
        Spec::given(vec![registered(), Event::TenantSuspended {}])
            .when(Action::Forget { user: id(1) })
            .then_error(Error::Suspended);
    }

    #[test]
    fn a_user_is_forgotten_once_and_keeps_no_role_changes() {
        Spec::given(forgotten())
            .when(Action::Forget { user: id(2) })
            .then_error(Error::Forgotten(id(2)));
        Spec::given(forgotten())
            .when(Action::ChangeRole {
                user: id(2),
                role: Role::Viewer,
                by: Role::Admin,
            })
            .then_error(Error::Forgotten(id(2)));
        Spec::given(forgotten())
            .when(Action::Activate(id(2)))
            .then_error(Error::WrongUserStatus {
                user: id(2),
                status: UserStatus::Deactivated,
                action: "activation",
            });
        Spec::given(forgotten())
            .when(Action::Deactivate(id(2)))
            .then_events(vec![]);
    }

    #[test]
    fn a_forgotten_user_reads_as_erased_and_stays_deactivated() {
        let tenant = deedlog_kernel::replay::<Tenants>(&forgotten())
            .0
            .expect("tenant");
        let member = &tenant.members[&id(2)];
        assert!(member.forgotten);
        assert_eq!(member.email, ERASED);
        assert_eq!(member.display_name, ERASED);
        assert_eq!(member.status, UserStatus::Deactivated);
        assert_eq!(member.role, Role::Agent);
        assert!(!tenant.members[&id(1)].forgotten);
        assert_eq!(tenant.members[&id(1)].email, "anna@berg.example");
    }

    #[test]
    fn a_forgotten_users_email_blocks_no_invitation() {
        // Their old address is free again, and so is the erased marker's text.
        Spec::given(forgotten())
            .when(Action::Invite {
                user: user(3, "ben@berg.example"),
                role: Role::Agent,
                by: Role::Admin,
            })
            .then_events(vec![invited(3, "ben@berg.example", Role::Agent)]);
        // Two forgotten users both read "[erased]" without clashing.
        let mut two = forgotten();
        two.extend([
            invited(3, "cleo@berg.example", Role::Viewer),
            Event::UserDeactivated { user: id(3) },
        ]);
        Spec::given(two)
            .when(Action::Forget { user: id(3) })
            .then_events(vec![Event::UserForgotten { user: id(3) }]);
    }

    #[test]
    fn the_payload_names_the_user_where_the_forgetting_declaration_says() {
        let (event_type, payload) =
            deedlog_kernel::codec::encode(&Event::UserForgotten { user: id(2) }).expect("encodes");
        assert_eq!(event_type, FORGETTING.event_type);
        let subject = deedlog_kernel::privacy::subject_of(FORGETTING.subject, "tenant", &payload);
        assert_eq!(subject, Some(id(2).to_string().as_str()));
    }

    #[test]
    fn the_refusals_have_stable_reasons() {
        assert_eq!(
            Error::NotDeactivated(id(2)).kind(),
            RefusalKind::Refused(Reason::new("USER_NOT_DEACTIVATED").with("userId", id(2)))
        );
        assert_eq!(
            Error::Forgotten(id(2)).kind(),
            RefusalKind::Refused(Reason::new("USER_FORGOTTEN").with("userId", id(2)))
        );
    }
}

mod communication_settings {
    use super::*;
    use deedlog_tenancy_domain::settings::CommunicationSettings;

    fn set(tz: &str, limit: u32, days: u32) -> Action {
        Action::SetCommunicationSettings {
            time_zone: tz.into(),
            cadence_limit: limit,
            cadence_window_days: days,
        }
    }

    fn changed(tz: &str, limit: u32, days: u32) -> Event {
        Event::CommunicationSettingsChanged {
            settings: CommunicationSettings {
                time_zone: tz.into(),
                cadence_limit: limit,
                cadence_window_days: days,
            },
        }
    }

    #[test]
    fn a_new_tenant_has_the_default_settings_and_changes_them() {
        let state = deedlog_kernel::replay::<Tenants>(&[registered()]);
        let tenant = state.0.expect("tenant");
        assert_eq!(tenant.settings, CommunicationSettings::default());
        Spec::given(vec![registered()])
            .when(set("Europe/Berlin", 5, 14))
            .then_events(vec![changed("Europe/Berlin", 5, 14)]);
        Spec::given(vec![registered()])
            .when(set("UTC", 3, 7))
            .then_events(vec![]);
    }

    #[test]
    fn bad_settings_are_refused_naming_the_field() {
        for (action, field) in [
            (set("Nowhere/Land", 3, 7), "time_zone"),
            (set("UTC", 0, 7), "cadence_limit"),
            (set("UTC", 3, 0), "cadence_window_days"),
        ] {
            match Tenants::decide(&deedlog_kernel::replay::<Tenants>(&[registered()]), &action) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected {field} refused, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_suspended_tenant_keeps_its_settings() {
        Spec::given(vec![registered(), Event::TenantSuspended {}])
            .when(set("Europe/Berlin", 3, 7))
            .then_error(Error::Suspended);
    }

    #[test]
    fn the_upper_bounds_are_accepted_and_one_past_them_refused() {
        Spec::given(vec![registered()])
            .when(set(" America/New_York ", 50, 90))
            .then_events(vec![changed("America/New_York", 50, 90)]);
        for (action, field, reason) in [
            (
                set("UTC", 51, 7),
                "cadence_limit",
                "must be between 1 and 50",
            ),
            (
                set("UTC", 3, 91),
                "cadence_window_days",
                "must be between 1 and 90",
            ),
            (
                set("  ", 3, 7),
                "time_zone",
                "must be an IANA time zone such as Europe/Berlin",
            ),
        ] {
            Spec::given(vec![registered()])
                .when(action)
                .then_error(Error::Invalid {
                    field,
                    reason: reason.into(),
                });
        }
    }

    #[test]
    fn settings_survive_their_stored_form_and_registrations_stay_as_they_were() {
        let changed = changed("Europe/Berlin", 5, 14);
        let (event_type, payload) = deedlog_kernel::codec::encode(&changed).expect("encodes");
        assert_eq!(
            deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string())
                .expect("decodes"),
            changed
        );
        // Registrations stored before settings existed carry none; the defaults live in the state.
        let (_, registration) = deedlog_kernel::codec::encode(&registered()).expect("encodes");
        assert!(registration.get("settings").is_none());
        let tenant = deedlog_kernel::replay::<Tenants>(&[registered(), changed])
            .0
            .expect("tenant");
        assert_eq!(tenant.settings.tz(), chrono_tz::Europe::Berlin);
    }
}
