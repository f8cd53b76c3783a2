//! Property tests: folding all events equals stepping, and whatever the
//! commands, a registered tenant always keeps at least one active admin.

use deedlog_kernel::{replay, Decider, UserId};
use deedlog_tenancy_domain::tenant::{Action, NewUser, State, Tenants, UserStatus};
use deedlog_tenancy_domain::{Module, Role};
use proptest::prelude::*;
use uuid::Uuid;

fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(vec![
        Role::Admin,
        Role::Manager,
        Role::Agent,
        Role::Viewer,
        Role::Auditor,
    ])
}

fn id(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Register {
            name: "Berg".into(),
            slug: "berg".into(),
            first_admin: NewUser {
                id: id(0),
                email: "a0@berg.example".into(),
                display_name: "A".into()
            },
        }),
        (1u128..5, role(), role()).prop_map(|(n, role, by)| Action::Invite {
            user: NewUser {
                id: id(n),
                email: format!("u{n}@berg.example"),
                display_name: "U".into()
            },
            role,
            by,
        }),
        (0u128..5).prop_map(|n| Action::Activate(id(n))),
        (0u128..5, role(), role()).prop_map(|(n, role, by)| Action::ChangeRole {
            user: id(n),
            role,
            by
        }),
        (0u128..5).prop_map(|n| Action::Deactivate(id(n))),
        (0u128..5).prop_map(|n| Action::Forget { user: id(n) }),
        Just(Action::Suspend),
        Just(Action::Reactivate),
        proptest::sample::select(Module::ALL.to_vec()).prop_map(Action::DisableModule),
    ]
}

proptest! {
    #[test]
    fn a_tenant_always_keeps_an_active_admin(actions in proptest::collection::vec(action(), 1..80)) {
        let mut state = State::default();
        let mut all = Vec::new();
        for action in actions {
            let Ok(events) = Tenants::decide(&state, &action) else { continue };
            for event in &events {
                state = Tenants::evolve(state, event);
            }
            all.extend(events);
            if let Some(tenant) = &state.0 {
                let admins = tenant.members.values()
                    .filter(|m| m.role == Role::Admin && m.status == UserStatus::Active)
                    .count();
                prop_assert!(admins >= 1);
            }
        }
        prop_assert_eq!(replay::<Tenants>(&all), state);
    }
}
