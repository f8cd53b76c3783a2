//! The timeline read model: every property, deal and contact event in
//! words, with the actor's name as known at its position, and no personal
//! data of contacts.

use crate::support::*;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use deedlog_communications_domain::{
    Channel, Event as Contact, LawfulBasis, PostalAddress, RefusalReason,
};
use deedlog_deals_domain::{Cost, Event as Deal, Financing, Stage};
use deedlog_kernel::{CommandMetadata, DomainEvent, Module, Role, StreamId, TenantId, UserId};
use deedlog_projector::projections::timeline::Timeline;
use deedlog_projector::rebuild;
use deedlog_projector::Projection;
use deedlog_properties_domain::model::{
    Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::{Event as Property, ListingStatus};
use deedlog_tenancy_domain::tenant::{Event as Tenancy, NewUser};
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// Appends to one tenant's log, each command a minute after the last.
struct Log<'a> {
    db: &'a TestDb,
    tenant: TenantId,
    minutes: i64,
    /// The metadata of the last append.
    last: Option<CommandMetadata>,
}

impl<'a> Log<'a> {
    fn new(db: &'a TestDb, tenant: TenantId) -> Self {
        Self {
            db,
            tenant,
            minutes: 0,
            last: None,
        }
    }

    /// Appends `events` to a stream of `stream_type` as `actor`; returns
    /// the last position.
    async fn append<E: serde::Serialize + DomainEvent>(
        &mut self,
        stream: StreamId,
        stream_type: &str,
        actor: &str,
        events: &[E],
    ) -> u64 {
        self.minutes += 1;
        let at = start() + Duration::minutes(self.minutes);
        let metadata = metadata_by(self.tenant, actor, at);
        self.last = Some(metadata.clone());
        self.db
            .append_to(self.tenant, stream, stream_type, events, metadata)
            .await
    }

    async fn tenant_event(&mut self, actor: &str, event: Tenancy) -> u64 {
        let stream = StreamId::from_uuid(self.tenant.as_uuid());
        self.append(stream, "tenant", actor, &[event]).await
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
        .single()
        .expect("instant")
}

fn user(id: Uuid) -> String {
    format!("user:{id}")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn registered(admin: Uuid, name: &str) -> Tenancy {
    Tenancy::TenantRegistered {
        name: "Berg Immobilien GmbH".into(),
        slug: "berg-immobilien".into(),
        modules: BTreeSet::from(Module::ALL),
        first_admin: NewUser {
            id: UserId::from_uuid(admin),
            email: "jonas.berg@berg-immobilien.de".into(),
            display_name: name.into(),
        },
    }
}

fn invited(id: Uuid, name: &str) -> Tenancy {
    Tenancy::UserInvited {
        user: NewUser {
            id: UserId::from_uuid(id),
            email: format!("{}@berg-immobilien.de", id.simple()),
            display_name: name.into(),
        },
        role: Role::Agent,
    }
}

fn address(street: &str) -> Address {
    Address {
        street: street.into(),
        postal_code: "10435".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        latitude: None,
        longitude: None,
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

const LENA: &str = "Lena Hoffmann";
const LENA_EMAIL: &str = "lena.hoffmann@example.de";
const LENA_PHONE: &str = "+4915112345678";

fn lena_address() -> PostalAddress {
    PostalAddress {
        street: "Schönhauser Allee 80".into(),
        postal_code: "10439".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    }
}

/// (position, expected `text`, expected `actor_name`) of each entry.
type Expected = Vec<(u64, String, Option<&'static str>)>;

/// The entries' (position, text, actor_name, summary) of one tenant.
async fn entries(db: &TestDb, tenant: TenantId) -> Vec<(i64, String, Option<String>, String)> {
    sqlx::query_as(
        "SELECT position, text, actor_name, summary FROM rm_timeline.entries \
         WHERE tenant_id = $1 ORDER BY position",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("entries")
}

fn check(actual: &[(i64, String, Option<String>, String)], expected: &Expected) {
    assert_eq!(actual.len(), expected.len(), "number of entries");
    for ((position, text, name, summary), (want_position, want_text, want_name)) in
        actual.iter().zip(expected)
    {
        assert_eq!(*position, *want_position as i64);
        assert_eq!(text, want_text, "text at position {position}");
        assert_eq!(name.as_deref(), *want_name, "actor_name at {position}");
        match want_name {
            Some(n) => assert_eq!(*text, format!("{summary} by {n}")),
            None => assert_eq!(text, summary),
        }
    }
}

#[tokio::test]
async fn every_event_in_words_with_the_actors_name_once_a_tenant_event_names_them() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut log = Log::new(&db, tenant);
    let (jonas, anna) = (Uuid::now_v7(), Uuid::now_v7());
    let (by_jonas, by_anna, webhook) = (user(jonas), user(anna), "system:webhook");
    let (property, deal, contact) = (new_stream(), new_stream(), new_stream());
    let mut want: Expected = Vec::new();

    log.tenant_event(&by_jonas, registered(jonas, "Jonas Berg"))
        .await;

    // Anna acts before any tenant event names her: summary only.
    let p = log
        .append(
            property,
            "property",
            &by_anna,
            &[Property::PropertyCreated {
                address: address("Kastanienallee 12"),
                kind: PropertyKind::Apartment,
                attributes: Attributes::default(),
                asking_price: Some(eur(45_000_000)),
                agent: Some(UserId::from_uuid(anna)),
                owner: Some(contact.as_uuid()),
                tags: BTreeSet::from(["altbau".to_owned()]),
            }],
        )
        .await;
    want.push((
        p,
        format!(
            "property created: apartment at Kastanienallee 12, 10435 Berlin, DE, \
             asking price 450,000.00 EUR, agent user {anna}"
        ),
        None,
    ));
    log.tenant_event(&by_jonas, invited(anna, "Anna Berg"))
        .await;

    let property_events: Vec<(&str, Property, &str, Option<&'static str>)> = vec![
        (
            &by_anna,
            Property::AskingPriceChanged {
                from: Some(eur(45_000_000)),
                to: eur(43_000_000),
            },
            "asking price changed from 450,000.00 EUR to 430,000.00 EUR by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::ListingStatusChanged {
                from: ListingStatus::Draft,
                to: ListingStatus::Active,
            },
            "listing status changed from draft to active by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_jonas,
            Property::ListingStatusChanged {
                from: ListingStatus::Reserved,
                to: ListingStatus::UnderContract,
            },
            "listing status changed from reserved to under contract by Jonas Berg",
            Some("Jonas Berg"),
        ),
        (
            &by_jonas,
            Property::AgentAssigned {
                from: Some(UserId::from_uuid(anna)),
                to: UserId::from_uuid(jonas),
            },
            "agent changed from Anna Berg to Jonas Berg by Jonas Berg",
            Some("Jonas Berg"),
        ),
        (
            &by_anna,
            Property::ValuationRecorded {
                value: eur(44_000_000),
                source: Source::Provider("PriceHubble".into()),
                valued_on: date(2026, 11, 20),
            },
            "valuation of 440,000.00 EUR recorded for 2026-11-20 (source: PriceHubble) by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::TagAdded {
                tag: "quiet street".into(),
            },
            "tag \"quiet street\" added by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::TagRemoved {
                tag: "altbau".into(),
            },
            "tag \"altbau\" removed by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::AttributesChanged {
                attributes: Attributes {
                    rooms: manual(4),
                    bedrooms: manual(1),
                    living_area_m2: manual(98),
                    year_built: manual(1908),
                    ..Attributes::default()
                },
            },
            "attributes changed to 4 rooms, 1 bedroom, 98 m² living area, built 1908 by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::AddressChanged {
                address: address("Kastanienallee 12a"),
            },
            "address changed to Kastanienallee 12a, 10435 Berlin, DE by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Property::OwnerSet { owner: None },
            "owner removed by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_jonas,
            Property::PropertyArchived {},
            "property archived by Jonas Berg",
            Some("Jonas Berg"),
        ),
        // A system actor has no name.
        (
            webhook,
            Property::PropertyRestored {},
            "property restored",
            None,
        ),
    ];
    for (actor, event, text, name) in property_events {
        let p = log.append(property, "property", actor, &[event]).await;
        want.push((p, text.to_owned(), name));
    }
    let price_change_correlation = {
        let p = log
            .append(
                property,
                "property",
                &by_anna,
                &[Property::AskingPriceChanged {
                    from: None,
                    to: eur(42_000_000),
                }],
            )
            .await;
        want.push((
            p,
            "asking price set to 420,000.00 EUR by Anna Berg".into(),
            Some("Anna Berg"),
        ));
        log.last.clone().expect("metadata")
    };

    let scenario = Uuid::now_v7();
    let deal_events: Vec<(&str, Deal, String, Option<&'static str>)> = vec![
        (
            &by_anna,
            Deal::DealOpened {
                property: property.as_uuid(),
                buyer: contact.as_uuid(),
                agent: UserId::from_uuid(anna),
                offer: Some(eur(60_000_000)),
                commission: Some(eur(2_142_000)),
                expected_close: Some(date(2027, 2, 28)),
            },
            "deal opened at lead, agent Anna Berg, offer 600,000.00 EUR, commission 21,420.00 EUR, \
             expected close 2027-02-28 by Anna Berg"
                .into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::StageMoved {
                from: Stage::Viewing,
                to: Stage::Offer,
            },
            "stage moved from viewing to offer by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::OfferSet {
                from: Some(eur(60_000_000)),
                to: eur(61_500_000),
            },
            "offer changed from 600,000.00 EUR to 615,000.00 EUR by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::CommissionSet {
                to: eur(2_195_550),
            },
            "commission set to 21,955.50 EUR by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ProbabilitySet { pct: Some(75) },
            "probability set to 75% by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ProbabilitySet { pct: None },
            "probability reset to the stage's default by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ExpectedCloseSet {
                date: Some(date(2027, 3, 31)),
            },
            "expected close set to 2027-03-31 by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ExpectedCloseSet { date: None },
            "expected close cleared by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ScenarioAdded {
                scenario_id: scenario,
                name: "Base case".into(),
                price: eur(61_500_000),
                costs: vec![
                    Cost {
                        label: "Notary and land registry".into(),
                        amount: eur(1_230_000),
                    },
                    Cost {
                        label: "Transfer tax (6%)".into(),
                        amount: eur(3_690_000),
                    },
                ],
                financing: Some(Financing {
                    loan: eur(49_200_000),
                    annual_rate_bp: 365,
                    term_months: 360,
                }),
            },
            "scenario \"Base case\" added: price 615,000.00 EUR, 2 costs totalling 49,200.00 EUR, \
             loan 492,000.00 EUR at 3.65% over 360 months by Anna Berg"
                .into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ScenarioUpdated {
                scenario_id: scenario,
                name: "Cash purchase".into(),
                price: eur(60_000_000),
                costs: vec![Cost {
                    label: "Notary and land registry".into(),
                    amount: eur(1_200_000),
                }],
                financing: None,
            },
            "scenario \"Base case\" renamed to \"Cash purchase\" and updated: price 600,000.00 EUR, \
             1 cost of 12,000.00 EUR, no financing by Anna Berg"
                .into(),
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Deal::ScenarioRemoved {
                scenario_id: scenario,
            },
            "scenario \"Cash purchase\" removed by Anna Berg".into(),
            Some("Anna Berg"),
        ),
        (
            &by_jonas,
            Deal::DealReassigned {
                from: UserId::from_uuid(anna),
                to: UserId::from_uuid(jonas),
            },
            "deal reassigned from Anna Berg to Jonas Berg by Jonas Berg".into(),
            Some("Jonas Berg"),
        ),
        (
            &by_jonas,
            Deal::DealLost {
                from: Stage::Negotiation,
                reason: "Financing fell through".into(),
            },
            "deal lost from negotiation (reason: \"Financing fell through\") by Jonas Berg".into(),
            Some("Jonas Berg"),
        ),
        (
            &by_jonas,
            Deal::DealReopened {
                to: Stage::Negotiation,
            },
            "deal reopened at negotiation by Jonas Berg".into(),
            Some("Jonas Berg"),
        ),
        (
            &by_jonas,
            Deal::DealWon {
                from: Stage::UnderContract,
                final_price: eur(61_500_000),
            },
            "deal won from under contract, final price 615,000.00 EUR by Jonas Berg".into(),
            Some("Jonas Berg"),
        ),
    ];
    for (actor, event, text, name) in deal_events {
        let p = log.append(deal, "deal", actor, &[event]).await;
        want.push((p, text, name));
    }

    let message = Uuid::now_v7();
    let replied = Utc
        .with_ymd_and_hms(2026, 11, 21, 17, 45, 9)
        .single()
        .expect("instant");
    let contact_events: Vec<(&str, Contact, &str, Option<&'static str>)> = vec![
        (
            &by_anna,
            Contact::ContactCreated {
                name: LENA.into(),
                email: Some(LENA_EMAIL.into()),
                phone: Some(LENA_PHONE.into()),
                address: Some(lena_address()),
            },
            "contact created with email address, phone number and postal address by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::ContactUpdated {
                name: LENA.into(),
                email: Some("lena@hoffmann-family.de".into()),
                phone: None,
                address: None,
            },
            "contact details updated by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::ConsentGranted {
                channel: Channel::Sms,
                lawful_basis: LawfulBasis::Consent,
                source: "web form".into(),
            },
            "consent for sms granted (lawful basis: consent) by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::ConsentGranted {
                channel: Channel::Email,
                lawful_basis: LawfulBasis::LegitimateInterest,
                source: format!("{LENA} agreed on the phone"),
            },
            "consent for email granted (lawful basis: legitimate interest) by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::ConsentWithdrawn {
                channel: Channel::Sms,
                source: format!("call from {LENA_PHONE}"),
            },
            "consent for sms withdrawn by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::DoNotCallSet {},
            "put on the do-not-call list by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::DoNotCallCleared {},
            "taken off the do-not-call list by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            webhook,
            Contact::Unsubscribed {
                source: format!("unsubscribe link of {LENA_EMAIL}"),
            },
            "unsubscribed from email",
            None,
        ),
        (
            &by_anna,
            Contact::UnsubscribeCleared {},
            "unsubscription from email lifted by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::MessageQueued {
                message_id: message,
                conversation_id: message,
                channel: Channel::Email,
                subject: Some(format!("Viewing for {LENA}")),
                body: format!("Dear Ms Hoffmann,\n\nsee you Saturday.\n\n{LENA_PHONE}"),
                property: Some(property.as_uuid()),
                deal: Some(deal.as_uuid()),
                at: start(),
            },
            "email sent by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::MessageQueued {
                message_id: Uuid::now_v7(),
                conversation_id: message,
                channel: Channel::Call,
                subject: None,
                body: "Lena Hoffmann will call back".into(),
                property: None,
                deal: None,
                at: start(),
            },
            "call logged by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            &by_anna,
            Contact::MessageRefused {
                message_id: Uuid::now_v7(),
                conversation_id: Uuid::now_v7(),
                channel: Channel::Sms,
                reasons: vec![
                    RefusalReason::NoConsent {
                        channel: Channel::Sms,
                    },
                    RefusalReason::DoNotCall,
                    RefusalReason::Unsubscribed,
                    RefusalReason::HardBounced {
                        channel: Channel::Sms,
                    },
                    RefusalReason::PausedAfterReply { since: replied },
                    RefusalReason::CadenceLimit {
                        limit: 3,
                        window_days: 7,
                    },
                    RefusalReason::QuietHours {
                        local_time: NaiveTime::from_hms_opt(22, 14, 37).expect("time"),
                        time_zone: "Europe/Berlin".into(),
                    },
                ],
                at: start(),
            },
            "sms refused: no consent for sms; on the do-not-call list; unsubscribed from email; \
             an earlier sms bounced hard; cadence paused after a reply on 2026-11-21; \
             cadence limit of 3 messages in 7 days reached; quiet hours (22:14 in Europe/Berlin) \
             by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            webhook,
            Contact::MessageDelivered {
                message_id: message,
                channel: Channel::Email,
                provider_event_id: "evt_1".into(),
                at: start(),
            },
            "email delivered",
            None,
        ),
        (
            webhook,
            Contact::MessageOpened {
                message_id: message,
                channel: Channel::Email,
                provider_event_id: "evt_2".into(),
                at: start(),
            },
            "email opened",
            None,
        ),
        (
            webhook,
            Contact::MessageBounced {
                message_id: message,
                channel: Channel::Email,
                hard: false,
                detail: format!("421 mailbox of {LENA} full"),
                provider_event_id: "evt_3".into(),
                at: start(),
            },
            "email bounced (soft)",
            None,
        ),
        (
            webhook,
            Contact::MessageBounced {
                message_id: message,
                channel: Channel::Email,
                hard: true,
                detail: format!("550 5.1.1 <{LENA_EMAIL}> unavailable"),
                provider_event_id: "evt_4".into(),
                at: start(),
            },
            "email bounced hard",
            None,
        ),
        (
            &by_anna,
            Contact::HardBounceCleared {
                channel: Channel::Email,
            },
            "hard bounce on email cleared by Anna Berg",
            Some("Anna Berg"),
        ),
        (
            webhook,
            Contact::ReplyReceived {
                message_id: Uuid::now_v7(),
                in_reply_to: Some(message),
                conversation_id: message,
                channel: Channel::Email,
                body: format!("Saturday works. {LENA}, {LENA_PHONE}"),
                provider_event_id: "inbound_1".into(),
                at: start(),
            },
            "reply received via email",
            None,
        ),
        (
            &by_anna,
            Contact::CadenceResumed {},
            "cadence resumed by Anna Berg",
            Some("Anna Berg"),
        ),
    ];
    for (actor, event, text, name) in contact_events {
        let p = log.append(contact, "contact", actor, &[event]).await;
        want.push((p, text.to_owned(), name));
    }

    // One batch: the invitation and Anna's first named change fold together.
    let mut projector = db.projector(Arc::new(Timeline), 1000).await;
    catch_up(&mut projector).await;
    check(&entries(&db, tenant).await, &want);

    // The envelope is carried over.
    let (stream_type, version, occurred_at, actor, correlation, causation): (
        String,
        i64,
        DateTime<Utc>,
        String,
        Uuid,
        Uuid,
    ) = sqlx::query_as(
        "SELECT stream_type, version, occurred_at, actor, correlation_id, causation_id \
         FROM rm_timeline.entries WHERE stream_id = $1 AND event_type = 'AskingPriceChanged' \
         ORDER BY position DESC LIMIT 1",
    )
    .bind(property.as_uuid())
    .fetch_one(&db.pool)
    .await
    .expect("entry");
    assert_eq!(stream_type, "property");
    assert_eq!(version, 14);
    assert_eq!(occurred_at, price_change_correlation.occurred_at);
    assert_eq!(actor, by_anna);
    assert_eq!(
        correlation,
        price_change_correlation.correlation_id.as_uuid()
    );
    assert_eq!(causation, price_change_correlation.causation_id.as_uuid());

    // No personal data of the contact anywhere in the timeline's words.
    // (Not in the whole row as text: a random id or position may contain
    // "10439" by chance, and once did.)
    let leaks = db
        .count(
            "SELECT count(*) FROM rm_timeline.entries e \
             WHERE concat_ws(' ', e.summary, e.text, e.actor_name, e.event_type) \
                   ~* '(lena|hoffmann|example\\.de|4915112345678|schönhauser|10439|saturday)'",
        )
        .await;
    assert_eq!(leaks, 0, "contact entries must not carry personal data");
    let contact_entries = db
        .count(&format!(
            "SELECT count(*) FROM rm_timeline.entries WHERE stream_id = '{}' AND stream_type = 'contact'",
            contact.as_uuid()
        ))
        .await;
    assert_eq!(contact_entries, 19);

    let actors: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT user_id, display_name FROM rm_timeline.actors WHERE tenant_id = $1 ORDER BY display_name",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&db.pool)
    .await
    .expect("actors");
    assert_eq!(
        actors,
        vec![
            (anna, "Anna Berg".to_owned()),
            (jonas, "Jonas Berg".to_owned())
        ]
    );
    let scenario_name: String = sqlx::query_scalar(
        "SELECT name FROM rm_timeline.scenario_names WHERE deal_id = $1 AND scenario_id = $2",
    )
    .bind(deal.as_uuid())
    .bind(scenario)
    .fetch_one(&db.pool)
    .await
    .expect("scenario name");
    assert_eq!(scenario_name, "Cash purchase");
}

#[tokio::test]
async fn a_name_learned_in_an_earlier_batch_is_used_and_one_learned_later_is_not_applied_backwards()
{
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut log = Log::new(&db, tenant);
    let (admin, anna) = (Uuid::now_v7(), Uuid::now_v7());
    let property = new_stream();
    log.tenant_event(&user(admin), registered(admin, "Jonas Berg"))
        .await;
    let created = log
        .append(property, "property", &user(anna), &[created_in("Berlin")])
        .await;
    let mut projector = db.projector(Arc::new(Timeline), 1).await;
    catch_up(&mut projector).await;

    log.tenant_event(&user(admin), invited(anna, "Anna Berg"))
        .await;
    catch_up(&mut projector).await;
    let tagged = log
        .append(
            property,
            "property",
            &user(anna),
            &[Property::TagAdded {
                tag: "garden".into(),
            }],
        )
        .await;
    catch_up(&mut projector).await;

    let rows = entries(&db, tenant).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, created as i64);
    assert_eq!(rows[0].2, None, "named only after this entry");
    assert_eq!(rows[1].0, tagged as i64);
    assert_eq!(rows[1].1, "tag \"garden\" added by Anna Berg");
}

fn created_in(city: &str) -> Property {
    Property::PropertyCreated {
        address: Address {
            city: city.into(),
            ..address("Lindenstraße 5")
        },
        kind: PropertyKind::MultiFamily,
        attributes: Attributes::default(),
        asking_price: None,
        agent: None,
        owner: None,
        tags: BTreeSet::new(),
    }
}

/// Two tenants, several properties, deals and contacts each; users are
/// named part-way through, the same user id in both tenants under two
/// names. Returns the number of record events.
async fn realistic_history(db: &TestDb, tenants: [TenantId; 2], shared: Uuid) -> u64 {
    let mut logs = tenants.map(|t| Log::new(db, t));
    let admins = [Uuid::now_v7(), Uuid::now_v7()];
    let names = ["Anna Berg", "Anna Schmidt"];
    let mut records = 0;
    for (i, log) in logs.iter_mut().enumerate() {
        log.tenant_event(&user(admins[i]), registered(admins[i], "Admin"))
            .await;
    }
    let properties: Vec<[StreamId; 2]> = (0..3).map(|_| [new_stream(), new_stream()]).collect();
    let deals: Vec<[StreamId; 2]> = (0..2).map(|_| [new_stream(), new_stream()]).collect();
    let contacts: Vec<[StreamId; 2]> = (0..2).map(|_| [new_stream(), new_stream()]).collect();
    let mut prices = [[45_000_000i64; 2]; 3];
    for round in 0..12u64 {
        for (t, log) in logs.iter_mut().enumerate() {
            if round == 5 {
                log.tenant_event(&user(admins[t]), invited(shared, names[t]))
                    .await;
            }
            let actor = if round % 3 == 0 {
                user(admins[t])
            } else {
                user(shared)
            };
            let (k, r) = ((round % 3) as usize, round as usize);
            let property = properties[k][t];
            let event = if round < 3 {
                created("Berlin", prices[k][t])
            } else {
                change(round * 7 + t as u64, &mut prices[k][t])
            };
            log.append(property, "property", &actor, &[event]).await;
            let deal = deals[r % 2][t];
            let deal_event = match round {
                0 | 1 => Deal::DealOpened {
                    property: property.as_uuid(),
                    buyer: contacts[r % 2][t].as_uuid(),
                    agent: UserId::from_uuid(shared),
                    offer: Some(eur(40_000_000)),
                    commission: None,
                    expected_close: None,
                },
                2..=5 => Deal::ScenarioAdded {
                    scenario_id: Uuid::from_u128(round as u128),
                    name: format!("Scenario {round}"),
                    price: eur(40_000_000),
                    costs: Vec::new(),
                    financing: None,
                },
                6 | 7 => Deal::ScenarioRemoved {
                    scenario_id: Uuid::from_u128(round as u128 - 4),
                },
                _ => Deal::OfferSet {
                    from: None,
                    to: eur(39_000_000 + round as i64),
                },
            };
            log.append(deal, "deal", &actor, &[deal_event]).await;
            let contact = contacts[r % 2][t];
            let contact_event = if round < 2 {
                Contact::ContactCreated {
                    name: LENA.into(),
                    email: Some(LENA_EMAIL.into()),
                    phone: None,
                    address: None,
                }
            } else {
                Contact::ConsentGranted {
                    channel: Channel::Email,
                    lawful_basis: LawfulBasis::Contract,
                    source: format!("round {round}"),
                }
            };
            log.append(contact, "contact", &actor, &[contact_event])
                .await;
            records += 3;
        }
    }
    records
}

#[tokio::test]
async fn batches_of_1_and_1000_give_the_same_rows_and_reconciliation_is_clean() {
    let db = TestDb::new().await;
    let tenants = [db.tenant().await, db.tenant().await];
    let shared = Uuid::now_v7();
    let records = realistic_history(&db, tenants, shared).await;
    let projection: Arc<dyn Projection> = Arc::new(Timeline);

    let mut one_by_one = db.projector(projection.clone(), 1).await;
    catch_up(&mut one_by_one).await;
    let incremental = schema_rows(&db, "rm_timeline").await;
    assert_eq!(
        db.count("SELECT count(*) FROM rm_timeline.entries").await,
        records as i64
    );

    // Names are per tenant, and only from the invitation on.
    for (tenant, name) in tenants.iter().zip(["Anna Berg", "Anna Schmidt"]) {
        let by_shared: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT actor_name, text FROM rm_timeline.entries WHERE tenant_id = $1 AND actor = $2 \
             ORDER BY position",
        )
        .bind(tenant.as_uuid())
        .bind(user(shared))
        .fetch_all(&db.pool)
        .await
        .expect("entries");
        let named = by_shared.iter().filter(|(n, _)| n.is_some()).count();
        assert!(
            named > 0 && named < by_shared.len(),
            "{named} of {}",
            by_shared.len()
        );
        assert!(by_shared
            .iter()
            .skip_while(|(n, _)| n.is_none())
            .all(|(n, text)| n.as_deref() == Some(name) && text.ends_with(&format!(" by {name}"))));
    }

    rebuild::rebuild(&db.pool, &db.reader, projection.clone(), 1000, &mut |_| {})
        .await
        .expect("rebuild");
    assert_same_rows(&schema_rows(&db, "rm_timeline").await, &incremental);

    assert_reconciles_clean(&db, projection, 100).await;
}
