//! One property's story: listed, maybe valued and repriced; for about half
//! a buyer who consents, gets emails and sometimes replies; for 35% a deal
//! that moves through the pipeline to the stage [`STAGE_CYCLE`] deals it,
//! moving the listing along (reserved, under contract, sold). The steps keep
//! to the domain's rules, so every one is accepted (or refused exactly when
//! the plan says so) and appends at least one event.

use super::catalog::{city_weights, Country, CITIES};
use super::listing::{self, round_thousands};
use super::names::{self, Person};
use super::plan::{
    deals_before, has_deal, Action, Actor, Channel, Delivery, Expect, Listing, Stage, Step, Story,
    TenantPlan, STAGE_CYCLE,
};
use super::random::Rng;
use super::wording;
use uuid::Uuid;

/// Most messages queued for one contact: the default cadence limit, so no
/// planned message is ever refused for cadence.
const MAX_OUTBOUND: u32 = 3;

/// The story of the `index`th property of `tenant`.
pub fn story(tenant: &TenantPlan, index: u64) -> Story {
    let mut rng = Rng::new(&[
        tenant.seed,
        u64::from(tenant.index),
        index,
        0x0073_746f_7279,
    ]);
    let agents = tenant.agents.len().max(1) as u64;
    // The lower of two draws: some agents are busier than others.
    let agent = rng.below(agents).min(rng.below(agents)) as usize;
    let mut b = Builder {
        tenant,
        index,
        agent,
        steps: Vec::with_capacity(16),
        records: 0,
    };
    let drawn = listing::draw(&mut rng, tenant);
    let property = b.record("property");
    b.agent(Action::CreateProperty {
        id: property,
        address: drawn.address.clone(),
        kind: drawn.kind,
        attributes: drawn.attributes.clone(),
        source: drawn.source.clone(),
        confidence_pct: drawn.confidence_pct,
        asking_price: drawn.asking_price,
        tags: drawn.tags.clone(),
    });
    let mut p = Listed {
        id: property,
        street: drawn.address.street.clone(),
        city: drawn.city.name,
        country: drawn.city.country,
        price: drawn.asking_price,
        status: Listing::Draft,
    };
    let deal_stage = has_deal(index).then(|| {
        let n = tenant.first_deal + deals_before(index);
        STAGE_CYCLE[(n % STAGE_CYCLE.len() as u64) as usize]
    });
    let goal = if deal_stage.is_some() {
        Listing::Active
    } else {
        [
            Listing::Draft,
            Listing::Active,
            Listing::Reserved,
            Listing::Withdrawn,
        ][rng.weighted(&[12, 73, 5, 10])]
    };
    if goal != Listing::Draft {
        b.list(&mut p, Listing::Active);
    }
    if rng.chance(25) {
        b.agent(Action::RecordValuation {
            property,
            value: round_thousands(p.price * rng.between(90, 110) / 100),
            provider: rng
                .chance(70)
                .then(|| rng.pick(wording::VALUATION_PROVIDERS)),
            days_ago: rng.between(0, 120) as u32,
        });
    }
    if p.status == Listing::Active && rng.chance(20) {
        let mut price = round_thousands(p.price * rng.between(92, 98) / 100);
        if price == p.price {
            price -= 100_000;
        }
        b.agent(Action::ChangeAskingPrice { property, price });
        p.price = price;
    }
    if goal != Listing::Active {
        b.list(&mut p, goal);
    }
    if deal_stage.is_some() || rng.chance(23) {
        buyer(&mut b, &mut rng, &mut p, deal_stage);
    }
    Story {
        index,
        property,
        city: p.city,
        asking_price: p.price,
        living_area_m2: drawn.attributes.living_area_m2,
        listing: p.status,
        deal: deal_stage,
        steps: b.steps,
    }
}

/// The property as the story has left it so far.
struct Listed {
    id: Uuid,
    street: String,
    city: &'static str,
    country: Country,
    price: i64,
    status: Listing,
}

struct Builder<'a> {
    tenant: &'a TenantPlan,
    index: u64,
    agent: usize,
    steps: Vec<Step>,
    /// Provider reports so far, to name each one.
    records: u32,
}

impl Builder<'_> {
    /// The id of a record the story creates (`property`, `contact`, `message-2`…).
    fn record(&self, what: &str) -> Uuid {
        self.tenant.id("property", self.index, what)
    }

    fn push(&mut self, actor: Actor, action: Action) {
        let step = format!("{:02}-{}", self.steps.len(), action.name());
        let command_id = self.tenant.id("property", self.index, &step);
        self.steps.push(Step {
            command_id,
            actor,
            action,
        });
    }

    fn agent(&mut self, action: Action) {
        self.push(Actor::Agent(self.agent), action);
    }

    fn agent_name(&self) -> &str {
        self.tenant
            .agents
            .get(self.agent)
            .map_or("Ihr Maklerteam", |a| a.display_name.as_str())
    }

    /// A provider's report id, unique in the tenant.
    fn provider_event_id(&mut self) -> String {
        self.records += 1;
        format!(
            "evt-{}",
            self.record(&format!("report-{}", self.records)).simple()
        )
    }

    /// Moves the listing to `to` (a legal move from where it is).
    fn list(&mut self, p: &mut Listed, to: Listing) {
        if p.status != to {
            self.agent(Action::ChangeListingStatus { property: p.id, to });
            p.status = to;
        }
    }
}

/// A buyer's messages as the rules will see them.
struct Inbox {
    contact: Uuid,
    name: String,
    phone: bool,
    email_consent: bool,
    sms_consent: bool,
    unsubscribed: bool,
    email_bounced: bool,
    paused: bool,
    /// Messages that (may) have been queued: they count against the cadence.
    outbound: u32,
    messages: u32,
    conversation: Option<Uuid>,
}

impl Inbox {
    fn can_email(&self) -> bool {
        self.email_consent
            && !self.unsubscribed
            && !self.email_bounced
            && self.outbound < MAX_OUTBOUND
    }

    fn can_sms(&self) -> bool {
        self.phone && self.sms_consent && self.outbound < MAX_OUTBOUND
    }

    /// Sends a message; one that should go out resumes a paused cadence first.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        b: &mut Builder,
        channel: Channel,
        subject: Option<String>,
        body: String,
        property: Uuid,
        deal: Option<Uuid>,
        expect: Expect,
    ) -> Uuid {
        if expect != Expect::Refused {
            if self.paused {
                b.agent(Action::ResumeCadence {
                    contact: self.contact,
                });
                self.paused = false;
            }
            self.outbound += 1;
        }
        self.messages += 1;
        let message = b.record(&format!("message-{}", self.messages));
        let conversation = *self.conversation.get_or_insert(message);
        b.agent(Action::SendMessage {
            contact: self.contact,
            message,
            conversation,
            channel,
            subject,
            body,
            property,
            deal,
            expect,
        });
        message
    }

    /// Sends an email that should go out, and what the provider then reports.
    fn email(
        &mut self,
        b: &mut Builder,
        rng: &mut Rng,
        (subject, body): (String, String),
        (property, deal): (Uuid, Option<Uuid>),
        reply_pct: u64,
    ) {
        let message = self.send(
            b,
            Channel::Email,
            Some(subject),
            body,
            property,
            deal,
            Expect::Queued,
        );
        self.reports(b, rng, message, reply_pct);
    }

    /// Sends an email about `property` that compliance is expected to refuse.
    fn refused_email(
        &mut self,
        b: &mut Builder,
        (subject, body): (String, String),
        property: Uuid,
    ) {
        self.send(
            b,
            Channel::Email,
            Some(subject),
            body,
            property,
            None,
            Expect::Refused,
        );
    }

    /// What the mail provider reports on a queued email: a bounce, or
    /// delivered, often opened, and sometimes answered.
    fn reports(&mut self, b: &mut Builder, rng: &mut Rng, message: Uuid, reply_pct: u64) {
        let roll = rng.below(100);
        let status = match roll {
            0 | 1 => Delivery::HardBounced(rng.pick(wording::HARD_BOUNCES)),
            2..=4 => Delivery::SoftBounced(rng.pick(wording::SOFT_BOUNCES)),
            _ => Delivery::Delivered,
        };
        let delivered = status == Delivery::Delivered;
        self.email_bounced |= matches!(status, Delivery::HardBounced(_));
        self.report(b, message, status);
        if !delivered || !rng.chance(60) {
            return;
        }
        self.report(b, message, Delivery::Opened);
        if rng.chance(reply_pct) {
            self.messages += 1;
            let provider_event_id = b.provider_event_id();
            b.push(
                Actor::Mailer,
                Action::RecordReply {
                    contact: self.contact,
                    message: b.record(&format!("message-{}", self.messages)),
                    in_reply_to: message,
                    conversation: self.conversation.unwrap_or(message),
                    body: rng.pick(wording::REPLIES),
                    provider_event_id,
                },
            );
            self.paused = true;
        }
    }

    fn report(&mut self, b: &mut Builder, message: Uuid, status: Delivery) {
        let provider_event_id = b.provider_event_id();
        b.push(
            Actor::Mailer,
            Action::RecordDelivery {
                contact: self.contact,
                message,
                status,
                provider_event_id,
            },
        );
    }
}

/// A buyer who asked about the property: contact, consents, the exposé by
/// email, the deal if there is one, and a few changes of mind at the end.
fn buyer(b: &mut Builder, rng: &mut Rng, p: &mut Listed, deal: Option<Stage>) {
    let person = Person::draw(rng);
    let contact = b.record("contact");
    let phone = rng.chance(70).then(|| names::mobile_phone(rng, p.country));
    let home = rng.chance(30).then(|| {
        let city = &CITIES[rng.weighted(&city_weights())];
        listing::address(rng, city)
    });
    let n = rng.below(1000);
    b.agent(Action::CreateContact {
        id: contact,
        name: person.name(),
        email: person.private_email(rng, p.country, n),
        phone: phone.clone(),
        address: home,
    });
    let mut inbox = Inbox {
        contact,
        name: person.name(),
        phone: phone.is_some(),
        email_consent: false,
        sms_consent: false,
        unsubscribed: false,
        email_bounced: false,
        paused: false,
        outbound: 0,
        messages: 0,
        conversation: None,
    };
    if rng.chance(90) {
        b.agent(Action::GrantConsent {
            contact,
            channel: Channel::Email,
            source: rng.pick(wording::EMAIL_CONSENT_SOURCES),
        });
        inbox.email_consent = true;
    }
    if inbox.phone && rng.chance(35) {
        b.agent(Action::GrantConsent {
            contact,
            channel: Channel::Sms,
            source: rng.pick(wording::SMS_CONSENT_SOURCES),
        });
        inbox.sms_consent = true;
    }
    let (subject, body) = wording::expose_email(&inbox.name, &p.street, p.city, b.agent_name());
    if inbox.can_email() {
        inbox.email(b, rng, (subject, body), (p.id, None), 30);
    } else if rng.chance(40) {
        // Agents do write to buyers who never consented; compliance refuses it.
        inbox.refused_email(b, (subject, body), p.id);
    }
    if let Some(stage) = deal {
        pipeline(b, rng, p, &mut inbox, stage);
    }
    if inbox.email_consent && !inbox.unsubscribed {
        if rng.chance(4) {
            b.agent(Action::Unsubscribe { contact });
            inbox.unsubscribed = true;
            if rng.chance(40) {
                let (subject, body) = wording::offer_email(&inbox.name, &p.street, b.agent_name());
                inbox.refused_email(b, (subject, body), p.id);
            }
        } else if rng.chance(3) {
            b.agent(Action::WithdrawConsent {
                contact,
                channel: Channel::Email,
                source: rng.pick(wording::WITHDRAWAL_SOURCES),
            });
        }
    }
    if inbox.sms_consent && rng.chance(8) {
        b.agent(Action::WithdrawConsent {
            contact,
            channel: Channel::Sms,
            source: rng.pick(wording::WITHDRAWAL_SOURCES),
        });
    } else if inbox.phone && !inbox.sms_consent && rng.chance(5) {
        let body = wording::viewing_sms(&p.street, b.agent_name());
        inbox.send(b, Channel::Sms, None, body, p.id, None, Expect::Refused);
    }
}

/// The deal, one stage at a time up to `end`, with what each stage brings.
fn pipeline(b: &mut Builder, rng: &mut Rng, p: &mut Listed, inbox: &mut Inbox, end: Stage) {
    let deal = b.record("deal");
    b.agent(Action::OpenDeal {
        id: deal,
        property: p.id,
        buyer: inbox.contact,
        // The usual buyer's commission: 3.57% including VAT.
        commission: p.price * 357 / 10_000,
        expected_close_in_days: rng.chance(50).then(|| rng.between(30, 180) as u32),
    });
    let last_open = match end {
        Stage::ClosedWon => Stage::UnderContract,
        Stage::ClosedLost => {
            deedlog_deals_domain::stage::OPEN[rng.weighted(&[30, 20, 25, 12, 8, 5])]
        }
        open => open,
    };
    let mut offer = None;
    for stage in deedlog_deals_domain::stage::OPEN
        .into_iter()
        .skip(1)
        .take_while(|s| *s <= last_open)
    {
        b.agent(Action::MoveStage { deal, to: stage });
        match stage {
            Stage::Viewing => {
                if inbox.can_email() && rng.chance(70) {
                    let email = wording::viewing_email(&inbox.name, &p.street, b.agent_name());
                    inbox.email(b, rng, email, (p.id, Some(deal)), 20);
                }
                if inbox.can_sms() && rng.chance(50) {
                    let body = wording::viewing_sms(&p.street, b.agent_name());
                    inbox.send(
                        b,
                        Channel::Sms,
                        None,
                        body,
                        p.id,
                        Some(deal),
                        Expect::Either,
                    );
                }
            }
            Stage::Offer => {
                let amount = round_thousands(p.price * rng.between(88, 99) / 100);
                b.agent(Action::SetOffer {
                    deal,
                    offer: amount,
                });
                offer = Some(amount);
                if inbox.can_email() && rng.chance(50) {
                    let email = wording::offer_email(&inbox.name, &p.street, b.agent_name());
                    inbox.email(b, rng, email, (p.id, Some(deal)), 0);
                }
            }
            Stage::Negotiation => {
                if let Some(current) = offer.filter(|_| rng.chance(40)) {
                    let raised = round_thousands(current * rng.between(101, 104) / 100);
                    if raised != current {
                        b.agent(Action::SetOffer {
                            deal,
                            offer: raised,
                        });
                        offer = Some(raised);
                    }
                }
                if rng.chance(30) {
                    let pct = rng.between(9, 15) as u32 * 5;
                    b.agent(Action::SetProbability { deal, pct });
                }
            }
            Stage::UnderContract => {
                b.list(p, Listing::Reserved);
                b.list(p, Listing::UnderContract);
            }
            _ => {}
        }
    }
    match end {
        Stage::ClosedWon => {
            let base = offer.unwrap_or(p.price);
            let final_price = round_thousands(base * rng.between(100, 102) / 100);
            b.agent(Action::WinDeal { deal, final_price });
            b.list(p, Listing::Sold);
        }
        Stage::ClosedLost => {
            b.agent(Action::LoseDeal {
                deal,
                reason: rng.pick(wording::LOST_REASONS),
            });
            if matches!(p.status, Listing::Reserved | Listing::UnderContract) {
                b.list(p, Listing::Withdrawn);
                b.list(p, Listing::Active);
            }
        }
        _ => {}
    }
}
