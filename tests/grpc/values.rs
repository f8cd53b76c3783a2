//! Values outside what is real are refused, and every refusal names the
//! path of the request message's field: currencies are ISO 4217 codes in
//! circulation, dates lie between 1900-01-01 and 2199-12-31, and a domain's
//! own words (`price`, `name`, `email`) come back as the request's
//! (`asking_price.amount_minor`, `details.name`, `admin_email`).

use crate::assert_invalid_field;
use deedlog_proto::common::v1::Date;
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_tests::clients::{command, house_in_berlin};
use deedlog_tests::fixtures::{money, reprice};
use deedlog_tests::{start_with_tenant, LogCounts};
use uuid::Uuid;

fn date(year: i32, month: u32, day: u32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Asserts INVALID_ARGUMENT on exactly `field`, with `text` in the message.
#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, tonic::Status>, field: &str, text: &str) {
    let status = assert_invalid_field(result, text, field);
    assert!(
        status.message().starts_with(&format!("{field}: ")),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn currencies_must_be_iso_4217_codes_in_circulation() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let property = c.property(&admin).await;
    let mut deal = c.new_deal(&admin).await;
    let before = LogCounts::of(&cluster).await;
    for currency in ["XYZ", "XAU", "XTS", "eur", "EURO", ""] {
        assert_invalid(
            c.properties
                .change_asking_price(admin.request(reprice(&property, money(45_000_000, currency))))
                .await,
            "asking_price.currency",
            "ISO 4217",
        );
        deal.command = command();
        deal.offer = money(40_000_000, currency);
        assert_invalid(
            c.deals.open_deal(admin.request(deal.clone())).await,
            "offer.currency",
            "such as EUR",
        );
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");
    for currency in ["EUR", "CHF"] {
        let property = c.property(&admin).await;
        c.properties
            .change_asking_price(admin.request(reprice(&property, money(45_000_000, currency))))
            .await
            .expect("a currency in circulation");
    }
}

#[tokio::test]
async fn dates_lie_between_1900_and_2199() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let property = c.property(&admin).await;
    let open = c.new_deal(&admin).await;
    let deal = c.open_deal(&admin, open).await;
    let valuation = |valued_on| props::RecordValuationRequest {
        command: command(),
        property_id: property.clone(),
        value: money(50_000_000, "EUR"),
        source: Some(props::Provenance {
            source: props::SourceKind::Manual.into(),
            confidence_pct: 80,
            ..Default::default()
        }),
        valued_on,
    };
    let expected_close = |date| deals::SetExpectedCloseRequest {
        command: command(),
        deal_id: deal.clone(),
        expected_close: date,
    };
    let before = LogCounts::of(&cluster).await;
    for (y, m, d) in [
        (1, 1, 1),
        (1899, 12, 31),
        (2200, 1, 1),
        (2100, 7, 1_000),
        (99_999, 1, 1),
    ] {
        let text = if d > 31 {
            "not a calendar date"
        } else {
            "1900-01-01 to 2199-12-31"
        };
        assert_invalid(
            c.properties
                .record_valuation(admin.request(valuation(date(y, m, d))))
                .await,
            "valued_on",
            text,
        );
        assert_invalid(
            c.deals
                .set_expected_close(admin.request(expected_close(date(y, m, d))))
                .await,
            "expected_close",
            text,
        );
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");
    let mut open = c.new_deal(&admin).await;
    let before_open = LogCounts::of(&cluster).await;
    open.expected_close = date(99_999, 1, 1);
    assert_invalid(
        c.deals.open_deal(admin.request(open)).await,
        "expected_close",
        "1900-01-01 to 2199-12-31",
    );
    assert_eq!(
        LogCounts::of(&cluster).await,
        before_open,
        "nothing is stored"
    );
    for (y, m, d) in [(1900, 1, 1), (2100, 2, 28), (2199, 12, 31)] {
        c.properties
            .record_valuation(admin.request(valuation(date(y, m, d))))
            .await
            .expect("a date within the range");
        c.deals
            .set_expected_close(admin.request(expected_close(date(y, m, d))))
            .await
            .expect("a date within the range");
    }
}

#[tokio::test]
async fn refusals_name_the_path_of_the_request_field() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let property = c.property(&admin).await;
    let contact = c.contact(&admin, "Clara Voss").await;
    let open = c.new_deal(&admin).await;
    let deal = c.open_deal(&admin, open).await;
    let before = LogCounts::of(&cluster).await;

    let register = |email: &str, name: &str| tenancy::RegisterTenantRequest {
        command: command(),
        name: "Lind Immobilien".into(),
        slug: "lind".into(),
        admin_email: email.into(),
        admin_display_name: name.into(),
        admin_password: deedlog_tests::clients::PASSWORD.into(),
    };
    assert_invalid(
        c.tenancy
            .register_tenant(register("not-an-email", "Lia"))
            .await,
        "admin_email",
        "email address",
    );
    assert_invalid(
        c.tenancy
            .register_tenant(register("lia@lind.example", " "))
            .await,
        "admin_display_name",
        "1 to 100",
    );

    let create = props::CreatePropertyRequest {
        asking_price: money(-1, "EUR"),
        ..house_in_berlin()
    };
    assert_invalid(
        c.properties.create_property(admin.request(create)).await,
        "asking_price.amount_minor",
        "greater than 0",
    );
    let create = props::CreatePropertyRequest {
        tags: vec!["balcony".into(), "garden".into(), " ".into()],
        ..house_in_berlin()
    };
    assert_invalid(
        c.properties.create_property(admin.request(create)).await,
        "tags[2]",
        "1 to 40 characters",
    );
    for (minor, text) in [
        (0, "greater than 0"),
        (10_000_000_000_001, "at most 10^13"),
        (i64::MAX, "at most 10^13"),
    ] {
        assert_invalid(
            c.properties
                .change_asking_price(admin.request(reprice(&property, money(minor, "EUR"))))
                .await,
            "asking_price.amount_minor",
            text,
        );
    }
    assert_invalid(
        c.properties
            .record_valuation(admin.request(props::RecordValuationRequest {
                command: command(),
                property_id: property.clone(),
                value: money(0, "EUR"),
                source: Some(props::Provenance {
                    source: props::SourceKind::Manual.into(),
                    ..Default::default()
                }),
                valued_on: date(2025, 1, 1),
            }))
            .await,
        "value.amount_minor",
        "greater than 0",
    );
    let sourced = |value: i64, provider: &str| {
        Some(props::SourcedInt {
            value,
            provenance: Some(props::Provenance {
                source: props::SourceKind::Provider.into(),
                provider: provider.into(),
                confidence_pct: 90,
            }),
        })
    };
    for (attributes, field) in [
        (
            props::Attributes {
                rooms: sourced(4, " "),
                ..Default::default()
            },
            "attributes.rooms.provenance.provider",
        ),
        (
            props::Attributes {
                rooms: sourced(2, "geodata"),
                bedrooms: sourced(3, "geodata"),
                ..Default::default()
            },
            "attributes.bedrooms.value",
        ),
        (
            props::Attributes {
                rooms: sourced(-1, "geodata"),
                ..Default::default()
            },
            "attributes.rooms.value",
        ),
    ] {
        assert_invalid(
            c.properties
                .change_attributes(admin.request(props::ChangeAttributesRequest {
                    command: command(),
                    property_id: property.clone(),
                    attributes: Some(attributes),
                }))
                .await,
            field,
            "",
        );
    }
    assert_eq!(LogCounts::of(&cluster).await, before, "nothing is stored");

    for (offer, commission, field, text) in [
        (
            money(0, "EUR"),
            None,
            "offer.amount_minor",
            "greater than 0",
        ),
        (
            None,
            money(-5, "EUR"),
            "commission.amount_minor",
            "greater than 0",
        ),
        (
            money(i64::MAX, "EUR"),
            None,
            "offer.amount_minor",
            "at most 10^13",
        ),
    ] {
        let open = deals::OpenDealRequest {
            offer,
            commission,
            ..c.new_deal(&admin).await
        };
        let counts = LogCounts::of(&cluster).await;
        assert_invalid(c.deals.open_deal(admin.request(open)).await, field, text);
        assert_eq!(LogCounts::of(&cluster).await, counts, "nothing is stored");
    }
    let before_deals = LogCounts::of(&cluster).await;
    assert_invalid(
        c.deals
            .set_offer(admin.request(deals::SetOfferRequest {
                command: command(),
                deal_id: deal.clone(),
                offer: money(0, "EUR"),
            }))
            .await,
        "offer.amount_minor",
        "greater than 0",
    );
    let scenario = |costs: Vec<deals::Cost>, price: i64| deals::ScenarioRequest {
        command: command(),
        deal_id: deal.clone(),
        scenario_id: Uuid::now_v7().to_string(),
        name: "Base".into(),
        price: money(price, "EUR"),
        costs,
        financing: None,
    };
    let cost = |label: &str, minor: i64| deals::Cost {
        label: label.into(),
        amount: money(minor, "EUR"),
    };
    for (request, field, text) in [
        (scenario(vec![], 0), "price.amount_minor", "greater than 0"),
        (
            scenario(vec![cost("Notary", 1), cost("Tax", -1)], 100),
            "costs[1].amount.amount_minor",
            "must not be negative",
        ),
        (
            scenario(vec![cost(" ", 1)], 100),
            "costs[0].label",
            "must not be empty",
        ),
    ] {
        assert_invalid(
            c.deals.add_scenario(admin.request(request)).await,
            field,
            text,
        );
    }

    let details = |name: &str, email: &str, phone: &str| comms::ContactDetails {
        name: name.into(),
        email: email.into(),
        phone: phone.into(),
        address: None,
    };
    for (d, field) in [
        (details(" ", "", ""), "details.name"),
        (details("Clara", "clara", ""), "details.email"),
        (details("Clara", "", "12"), "details.phone"),
    ] {
        assert_invalid(
            c.communications
                .create_contact(admin.request(comms::CreateContactRequest {
                    command: command(),
                    details: Some(d.clone()),
                    ..Default::default()
                }))
                .await,
            field,
            "must",
        );
        assert_invalid(
            c.communications
                .update_contact(admin.request(comms::UpdateContactRequest {
                    command: command(),
                    contact_id: contact.clone(),
                    details: Some(d),
                }))
                .await,
            field,
            "must",
        );
    }
    assert_eq!(
        LogCounts::of(&cluster).await,
        before_deals,
        "nothing is stored"
    );
}

mod properties {
    //! What holds for every date and currency code, not only the examples.

    use chrono::Datelike;
    use deedlog_kernel::calendar::{business_date, EARLIEST_DATE, LATEST_DATE};
    use deedlog_kernel::money::IN_CIRCULATION;
    use deedlog_kernel::Currency;
    use proptest::prelude::*;

    proptest! {
        /// Every accepted date lies in the range, is written `YYYY-MM-DD`
        /// (ten characters, no sign) and reads back as itself; every
        /// refused one is outside the range or no calendar date.
        #[test]
        fn accepted_dates_format_in_the_documented_form_and_round_trip(
            year in -300_000i32..300_000,
            month in 0u32..14,
            day in 0u32..33,
        ) {
            match business_date(year, month, day) {
                Ok(date) => {
                    prop_assert!((EARLIEST_DATE..=LATEST_DATE).contains(&date));
                    let text = date.format("%Y-%m-%d").to_string();
                    prop_assert_eq!(text.len(), 10, "{}", text);
                    prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
                    let back: chrono::NaiveDate = text.parse().expect("parses");
                    prop_assert_eq!(back, date);
                    prop_assert_eq!((back.year(), back.month(), back.day()), (year, month, day));
                }
                Err(_) => {
                    let real = chrono::NaiveDate::from_ymd_opt(year, month, day);
                    prop_assert!(real.is_none_or(|d| d < EARLIEST_DATE || d > LATEST_DATE));
                }
            }
        }

        /// A code prices a request exactly when it is on the list, and an
        /// accepted currency writes itself back as the same code.
        #[test]
        fn a_currency_is_accepted_exactly_when_it_is_in_circulation(code in "[A-Z]{3}|[A-Za-z0-9]{0,4}") {
            let accepted = Currency::in_circulation(&code);
            prop_assert_eq!(accepted.is_ok(), IN_CIRCULATION.contains(&code.as_str()));
            if let Ok(currency) = accepted {
                prop_assert_eq!(currency.to_string(), code);
            }
        }
    }
}
