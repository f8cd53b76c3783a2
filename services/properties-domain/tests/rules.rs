//! Given/when/then for every rule of the properties context (DOMAIN.md).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use deedlog_kernel::{Currency, DeciderSpec, Money, UserId};
use deedlog_properties_domain::model::{
    Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::{Action, Command, Error, Event, ListingStatus, Properties};
use std::collections::BTreeSet;
use uuid::Uuid;

type Spec = DeciderSpec<Properties>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("valid time")
}

fn when(action: Action) -> Command {
    Command { at: at(), action }
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

fn address() -> Address {
    Address {
        street: "Lindenstraße 5".into(),
        postal_code: "10969".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        latitude: Some(52.5),
        longitude: Some(13.4),
    }
}

fn manual<T>(value: T) -> Option<Sourced<T>> {
    Some(Sourced {
        value,
        provenance: Provenance {
            source: Source::Manual,
            confidence_pct: 100,
        },
    })
}

fn attributes() -> Attributes {
    Attributes {
        rooms: manual(4),
        bedrooms: manual(2),
        bathrooms: manual(1),
        living_area_m2: manual(95),
        plot_area_m2: None,
        year_built: manual(1908),
    }
}

fn agent() -> UserId {
    UserId::from_uuid(Uuid::from_u128(7))
}

fn create() -> Action {
    Action::Create {
        address: address(),
        kind: PropertyKind::Apartment,
        attributes: attributes(),
        asking_price: Some(eur(45_000_000)),
        agent: Some(agent()),
        owner: None,
        tags: vec![" Altbau ".into(), "balcony".into()],
    }
}

fn created() -> Event {
    Event::PropertyCreated {
        address: address(),
        kind: PropertyKind::Apartment,
        attributes: attributes(),
        asking_price: Some(eur(45_000_000)),
        agent: Some(agent()),
        owner: None,
        tags: BTreeSet::from(["altbau".to_owned(), "balcony".to_owned()]),
    }
}

fn moved(from: ListingStatus, to: ListingStatus) -> Event {
    Event::ListingStatusChanged { from, to }
}

/// History that brings a new property to `status` along allowed moves.
fn history_to(status: ListingStatus) -> Vec<Event> {
    use ListingStatus::*;
    let path: &[ListingStatus] = match status {
        Draft => &[Draft],
        Active => &[Draft, Active],
        Reserved => &[Draft, Active, Reserved],
        UnderContract => &[Draft, Active, Reserved, UnderContract],
        Sold => &[Draft, Active, Reserved, UnderContract, Sold],
        Withdrawn => &[Draft, Active, Withdrawn],
    };
    let mut events = vec![created()];
    events.extend(path.windows(2).map(|w| moved(w[0], w[1])));
    events
}

#[test]
fn a_property_is_created_with_normalised_tags_in_draft() {
    Spec::given_nothing()
        .when(when(create()))
        .then_events(vec![created()]);
}

#[test]
fn a_property_is_created_once() {
    Spec::given(vec![created()])
        .when(when(create()))
        .then_error(Error::AlreadyExists);
}

#[test]
fn changing_a_property_that_does_not_exist_is_refused() {
    Spec::given_nothing()
        .when(when(Action::ChangeAskingPrice(eur(1))))
        .then_error(Error::NotFound);
}

/// Spoils one field of an address.
type AddressChange = Box<dyn Fn(&mut Address)>;

#[test]
fn invalid_addresses_name_the_field() {
    let cases: Vec<(AddressChange, &str)> = vec![
        (Box::new(|a| a.street = "  ".into()), "address.street"),
        (
            Box::new(|a| a.postal_code = String::new()),
            "address.postal_code",
        ),
        (Box::new(|a| a.city = "x".repeat(201)), "address.city"),
        (
            Box::new(|a| a.country = "Germany".into()),
            "address.country",
        ),
        (Box::new(|a| a.latitude = Some(91.0)), "address.latitude"),
        (
            Box::new(|a| a.longitude = Some(-181.0)),
            "address.longitude",
        ),
        (Box::new(|a| a.longitude = None), "address.latitude"),
    ];
    for (change, field) in cases {
        let mut bad = address();
        change(&mut bad);
        let result = deedlog_properties_domain::decide::decide(
            &Default::default(),
            &when(Action::Create {
                address: bad.clone(),
                kind: PropertyKind::House,
                attributes: Attributes::default(),
                asking_price: None,
                agent: None,
                owner: None,
                tags: vec![],
            }),
        );
        assert!(
            matches!(&result, Err(Error::Invalid { field: f, .. }) if *f == field),
            "{field}: {result:?}"
        );
        Spec::given(vec![created()])
            .when(when(Action::ChangeAddress(bad)))
            .then_error(result.expect_err("same refusal for a change"));
    }
}

#[test]
fn invalid_attributes_name_the_field() {
    let mut too_many_bedrooms = attributes();
    too_many_bedrooms.bedrooms = manual(5);
    let mut future = attributes();
    future.year_built = manual(2032);
    let mut unsure = attributes();
    unsure.rooms = Some(Sourced {
        value: 4,
        provenance: Provenance {
            source: Source::Provider("geodata".into()),
            confidence_pct: 101,
        },
    });
    let mut no_area = attributes();
    no_area.living_area_m2 = manual(0);
    for (attributes, field) in [
        (too_many_bedrooms, "attributes.bedrooms.value"),
        (future, "attributes.year_built.value"),
        (unsure, "attributes.rooms.provenance.confidence_pct"),
        (no_area, "attributes.living_area_m2.value"),
    ] {
        let result = deedlog_properties_domain::decide::decide(
            &deedlog_kernel::replay::<Properties>(&[created()]),
            &when(Action::ChangeAttributes(attributes)),
        );
        assert!(
            matches!(&result, Err(Error::Invalid { field: f, .. }) if *f == field),
            "{field}: {result:?}"
        );
    }
    let mut next_year = attributes();
    next_year.year_built = manual(2031);
    Spec::given(vec![created()])
        .when(when(Action::ChangeAttributes(next_year.clone())))
        .then_events(vec![Event::AttributesChanged {
            attributes: next_year,
        }]);
}

#[test]
fn every_allowed_listing_move_is_accepted() {
    for from in ListingStatus::ALL {
        for to in from.allowed_moves() {
            Spec::given(history_to(from))
                .when(when(Action::ChangeListingStatus(*to)))
                .then_events(vec![moved(from, *to)]);
        }
    }
}

#[test]
fn a_forbidden_listing_move_names_the_allowed_moves() {
    use ListingStatus::*;
    Spec::given(history_to(Draft))
        .when(when(Action::ChangeListingStatus(Sold)))
        .then_error(Error::TransitionNotAllowed {
            from: Draft,
            to: Sold,
            allowed: vec![Active],
        });
    let error = deedlog_properties_domain::decide::decide(
        &deedlog_kernel::replay::<Properties>(&history_to(Active)),
        &when(Action::ChangeListingStatus(UnderContract)),
    )
    .expect_err("skips reserved");
    assert_eq!(
        error.to_string(),
        "listing status cannot move from active to under_contract; allowed: reserved, withdrawn"
    );
}

#[test]
fn sold_is_final() {
    for to in ListingStatus::ALL
        .into_iter()
        .filter(|s| *s != ListingStatus::Sold)
    {
        let error = deedlog_properties_domain::decide::decide(
            &deedlog_kernel::replay::<Properties>(&history_to(ListingStatus::Sold)),
            &when(Action::ChangeListingStatus(to)),
        )
        .expect_err("sold is final");
        assert!(
            error.to_string().ends_with("allowed: none (sold is final)"),
            "{error}"
        );
    }
    Spec::given(history_to(ListingStatus::Sold))
        .when(when(Action::ChangeAskingPrice(eur(1))))
        .then_error(Error::Sold {
            what: "asking price",
        });
}

#[test]
fn asking_price_changes_record_the_old_and_new_price() {
    Spec::given(vec![created()])
        .when(when(Action::ChangeAskingPrice(eur(43_000_000))))
        .then_events(vec![Event::AskingPriceChanged {
            from: Some(eur(45_000_000)),
            to: eur(43_000_000),
        }]);
    // The same price again changes nothing.
    Spec::given(vec![created()])
        .when(when(Action::ChangeAskingPrice(eur(45_000_000))))
        .then_events(vec![]);
}

#[test]
fn asking_prices_stay_in_one_currency_and_are_positive() {
    let usd = Money::new(100, Currency::new("USD").expect("USD"));
    Spec::given(vec![created()])
        .when(when(Action::ChangeAskingPrice(usd)))
        .then_error(Error::CurrencyMismatch {
            expected: "EUR".into(),
        });
    Spec::given(vec![created()])
        .when(when(Action::ChangeAskingPrice(eur(0))))
        .then_error(Error::Invalid {
            field: "price.amount_minor",
            reason: "must be greater than 0".into(),
        });
}

#[test]
fn valuations_are_kept_as_a_history() {
    let on = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let valuation = |minor| Action::RecordValuation {
        value: eur(minor),
        source: Source::Provider("avm-provider".into()),
        valued_on: on,
    };
    let recorded = |minor| Event::ValuationRecorded {
        value: eur(minor),
        source: Source::Provider("avm-provider".into()),
        valued_on: on,
    };
    Spec::given(vec![created(), recorded(44_000_000)])
        .when(when(valuation(44_000_000)))
        .then_events(vec![recorded(44_000_000)]);
    let state = deedlog_kernel::replay::<Properties>(&[
        created(),
        recorded(44_000_000),
        recorded(46_000_000),
    ]);
    assert_eq!(state.0.expect("exists").valuations.len(), 2);
}

#[test]
fn an_archived_property_accepts_nothing_but_restore() {
    let archived = vec![created(), Event::PropertyArchived {}];
    for action in [
        Action::ChangeAskingPrice(eur(1)),
        Action::ChangeListingStatus(ListingStatus::Active),
        Action::AddTag("x".into()),
        Action::Archive,
        Action::AssignAgent(agent()),
    ] {
        Spec::given(archived.clone())
            .when(when(action))
            .then_error(Error::Archived);
    }
    Spec::given(archived)
        .when(when(Action::Restore))
        .then_events(vec![Event::PropertyRestored {}]);
    Spec::given(vec![created()])
        .when(when(Action::Restore))
        .then_error(Error::NotArchived);
}

#[test]
fn tags_are_normalised_and_bounded() {
    Spec::given(vec![created()])
        .when(when(Action::AddTag("  Garden ".into())))
        .then_events(vec![Event::TagAdded {
            tag: "garden".into(),
        }]);
    Spec::given(vec![created()])
        .when(when(Action::AddTag("BALCONY".into())))
        .then_events(vec![]);
    Spec::given(vec![created()])
        .when(when(Action::RemoveTag("pool".into())))
        .then_events(vec![]);
    Spec::given(vec![created()])
        .when(when(Action::RemoveTag("Altbau".into())))
        .then_events(vec![Event::TagRemoved {
            tag: "altbau".into(),
        }]);
    Spec::given(vec![created()])
        .when(when(Action::AddTag(" ".into())))
        .then_error(Error::Invalid {
            field: "tag",
            reason: "must be 1 to 40 characters".into(),
        });
    let mut full = vec![created()];
    full.extend((0..48).map(|i| Event::TagAdded {
        tag: format!("t{i}"),
    }));
    Spec::given(full)
        .when(when(Action::AddTag("one-too-many".into())))
        .then_error(Error::Invalid {
            field: "tag",
            reason: "at most 50 tags per property".into(),
        });
}

#[test]
fn agent_and_owner_changes_are_recorded_once() {
    let other = UserId::from_uuid(Uuid::from_u128(8));
    Spec::given(vec![created()])
        .when(when(Action::AssignAgent(other)))
        .then_events(vec![Event::AgentAssigned {
            from: Some(agent()),
            to: other,
        }]);
    Spec::given(vec![created()])
        .when(when(Action::AssignAgent(agent())))
        .then_events(vec![]);
    let owner = Some(Uuid::from_u128(99));
    Spec::given(vec![created()])
        .when(when(Action::SetOwner(owner)))
        .then_events(vec![Event::OwnerSet { owner }]);
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let on = NaiveDate::from_ymd_opt(2026, 1, 2).expect("date");
    let events = vec![
        created(),
        Event::AddressChanged { address: address() },
        Event::AttributesChanged {
            attributes: attributes(),
        },
        Event::AskingPriceChanged {
            from: None,
            to: eur(5),
        },
        Event::ValuationRecorded {
            value: eur(5),
            source: Source::Import,
            valued_on: on,
        },
        moved(ListingStatus::Draft, ListingStatus::Active),
        Event::AgentAssigned {
            from: None,
            to: agent(),
        },
        Event::OwnerSet { owner: None },
        Event::TagAdded { tag: "a".into() },
        Event::TagRemoved { tag: "a".into() },
        Event::PropertyArchived {},
        Event::PropertyRestored {},
    ];
    for event in events {
        let (event_type, payload) = deedlog_kernel::codec::encode(&event).expect("encodes");
        assert!(payload.is_object(), "{event_type}");
        assert!(deedlog_kernel::validate_name(event_type).is_ok());
        assert_eq!(
            deedlog_kernel::codec::decode::<Event>(event_type, &payload.to_string())
                .expect("decodes"),
            event
        );
    }
    assert!(deedlog_kernel::codec::decode::<Event>("NoSuchEvent", "{}").is_err());
}
