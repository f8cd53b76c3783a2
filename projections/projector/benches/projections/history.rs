//! A generated log of realistic histories: properties listed, repriced and
//! sold; deals walked through the pipeline and won or lost; contacts who
//! consent, get messages, open them and sometimes reply. Events are built
//! with the domain crates' own enums and encoded as the services store them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use deedlog_communications_domain::{Channel, Event as ContactEvent, LawfulBasis, RefusalReason};
use deedlog_deals_domain::{Event as DealEvent, Stage};
use deedlog_eventstore::NewEvent;
use deedlog_kernel::{Currency, DomainEvent, Money, UserId};
use deedlog_properties_domain::model::{
    Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::{Event as PropertyEvent, ListingStatus};
use std::collections::BTreeSet;
use uuid::Uuid;

/// One stream's events, ready to append in one request.
#[derive(Debug)]
pub struct StreamHistory {
    pub stream_type: &'static str,
    pub events: Vec<NewEvent>,
}

fn encode<E: serde::Serialize + DomainEvent>(event: &E) -> NewEvent {
    let (event_type, payload) = deedlog_kernel::codec::encode(event).expect("encode");
    NewEvent::new(event_type, 1, &payload).expect("serialise")
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::new("EUR").expect("EUR"))
}

/// A small deterministic generator (xorshift), so every run builds the same log.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

const CITIES: [&str; 6] = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden"];

pub fn property(rng: &mut Rng, agents: &[UserId]) -> StreamHistory {
    let mut price = 20_000_000 + rng.below(80) as i64 * 1_000_000;
    let agent = agents[rng.below(agents.len() as u64) as usize];
    let mut events = vec![encode(&PropertyEvent::PropertyCreated {
        address: Address {
            street: format!("Hauptstraße {}", rng.below(200) + 1),
            postal_code: format!("{:05}", 10_000 + rng.below(89_999)),
            city: CITIES[rng.below(CITIES.len() as u64) as usize].into(),
            country: "DE".into(),
            latitude: Some(48.0 + rng.below(500) as f64 / 100.0),
            longitude: Some(8.0 + rng.below(600) as f64 / 100.0),
        },
        kind: [
            PropertyKind::House,
            PropertyKind::Apartment,
            PropertyKind::MultiFamily,
        ][rng.below(3) as usize],
        attributes: Attributes {
            rooms: Some(Sourced {
                value: 1 + rng.below(8) as u16,
                provenance: Provenance {
                    source: Source::Manual,
                    confidence_pct: 100,
                },
            }),
            living_area_m2: Some(Sourced {
                value: 30 + rng.below(250) as u32,
                provenance: Provenance {
                    source: Source::Import,
                    confidence_pct: 90,
                },
            }),
            ..Attributes::default()
        },
        asking_price: Some(eur(price)),
        agent: Some(agent),
        owner: None,
        tags: BTreeSet::from(["new".to_owned()]),
    })];
    let walk = [
        (ListingStatus::Draft, ListingStatus::Active),
        (ListingStatus::Active, ListingStatus::Reserved),
        (ListingStatus::Reserved, ListingStatus::Active),
        (ListingStatus::Active, ListingStatus::Reserved),
        (ListingStatus::Reserved, ListingStatus::UnderContract),
        (ListingStatus::UnderContract, ListingStatus::Sold),
    ];
    let changes = 10 + rng.below(20);
    let mut step = 0;
    for n in 0..changes {
        let event = match rng.below(10) {
            0..=4 => {
                let from = price;
                price -= 250_000 * (1 + rng.below(4) as i64);
                PropertyEvent::AskingPriceChanged {
                    from: Some(eur(from)),
                    to: eur(price),
                }
            }
            5 | 6 if step < walk.len() && n > 2 => {
                let (from, to) = walk[step];
                step += 1;
                PropertyEvent::ListingStatusChanged { from, to }
            }
            7 => PropertyEvent::ValuationRecorded {
                value: eur(price + 1_000_000),
                source: Source::Provider("PriceHubble".into()),
                valued_on: NaiveDate::from_ymd_opt(2026, 1 + rng.below(11) as u32, 1)
                    .expect("date"),
            },
            8 => PropertyEvent::TagAdded {
                tag: format!("tag{}", rng.below(6)),
            },
            _ => PropertyEvent::TagRemoved {
                tag: format!("tag{}", rng.below(6)),
            },
        };
        events.push(encode(&event));
    }
    StreamHistory {
        stream_type: "property",
        events,
    }
}

pub fn deal(rng: &mut Rng, agents: &[UserId]) -> StreamHistory {
    let agent = agents[rng.below(agents.len() as u64) as usize];
    let offer = 25_000_000 + rng.below(50) as i64 * 1_000_000;
    let mut events = vec![encode(&DealEvent::DealOpened {
        property: Uuid::now_v7(),
        buyer: Uuid::now_v7(),
        agent,
        offer: None,
        commission: Some(eur(offer / 30)),
        expected_close: NaiveDate::from_ymd_opt(2027, 1 + rng.below(12) as u32, 15),
    })];
    let path = [
        Stage::Lead,
        Stage::Qualified,
        Stage::Viewing,
        Stage::Offer,
        Stage::Negotiation,
        Stage::UnderContract,
    ];
    let reach = 1 + rng.below(path.len() as u64 - 1) as usize;
    for window in path[..=reach].windows(2) {
        events.push(encode(&DealEvent::StageMoved {
            from: window[0],
            to: window[1],
        }));
        if window[1] == Stage::Offer {
            events.push(encode(&DealEvent::OfferSet {
                from: None,
                to: eur(offer),
            }));
        }
        if rng.below(4) == 0 {
            events.push(encode(&DealEvent::ProbabilitySet {
                pct: Some(rng.below(100) as u8),
            }));
        }
    }
    let last = path[reach];
    match rng.below(3) {
        0 if last == Stage::UnderContract => events.push(encode(&DealEvent::DealWon {
            from: last,
            final_price: eur(offer),
        })),
        1 => events.push(encode(&DealEvent::DealLost {
            from: last,
            reason: "buyer chose another property".into(),
        })),
        _ => {}
    }
    StreamHistory {
        stream_type: "deal",
        events,
    }
}

pub fn contact(rng: &mut Rng, start: DateTime<Utc>) -> StreamHistory {
    let mut events = vec![
        encode(&ContactEvent::ContactCreated {
            name: format!("Kontakt {}", rng.below(1_000_000)),
            email: Some(format!("k{}@example.com", rng.below(1_000_000))),
            phone: Some("+49301234567".into()),
            address: None,
        }),
        encode(&ContactEvent::ConsentGranted {
            channel: Channel::Email,
            lawful_basis: LawfulBasis::Consent,
            source: "web form".into(),
        }),
    ];
    let conversation = Uuid::now_v7();
    let messages = 3 + rng.below(6);
    for n in 0..messages {
        let at = start + Duration::days(n as i64 * 3);
        let message_id = Uuid::now_v7();
        if rng.below(6) == 0 {
            events.push(encode(&ContactEvent::MessageRefused {
                message_id,
                conversation_id: conversation,
                channel: Channel::Sms,
                reasons: vec![RefusalReason::NoConsent {
                    channel: Channel::Sms,
                }],
                at,
            }));
            continue;
        }
        events.push(encode(&ContactEvent::MessageQueued {
            message_id,
            conversation_id: conversation,
            channel: Channel::Email,
            subject: Some("Neues Exposé".into()),
            body: "Guten Tag, anbei das Exposé.".into(),
            property: Some(Uuid::now_v7()),
            deal: None,
            at,
        }));
        events.push(encode(&ContactEvent::MessageDelivered {
            message_id,
            channel: Channel::Email,
            provider_event_id: format!("d-{message_id}"),
            at,
        }));
        if rng.below(2) == 0 {
            events.push(encode(&ContactEvent::MessageOpened {
                message_id,
                channel: Channel::Email,
                provider_event_id: format!("o-{message_id}"),
                at,
            }));
        }
        if rng.below(8) == 0 {
            events.push(encode(&ContactEvent::ReplyReceived {
                message_id: Uuid::now_v7(),
                in_reply_to: Some(message_id),
                conversation_id: conversation,
                channel: Channel::Email,
                body: "Danke, wann kann ich besichtigen?".into(),
                provider_event_id: format!("r-{message_id}"),
                at,
            }));
            events.push(encode(&ContactEvent::CadenceResumed {}));
        }
    }
    StreamHistory {
        stream_type: "contact",
        events,
    }
}
