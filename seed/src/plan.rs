//! The plan of a seed, as pure data: which tenants with which users, and for
//! each property the ordered steps of its story ([`super::story`] writes
//! them). Nothing here does I/O or reads a clock: the same inputs give the
//! same plan, with the same command ids, on every run.

use super::catalog::{self, Country, CITIES};
use super::names::{self, Person};
use super::random::Rng;
use uuid::Uuid;

/// Namespace of every seeded id (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x6465_6564_6c6f_6700_8000_7365_6564_0001);

/// The id named `name` (UUID v5 in the seed's namespace).
pub fn id(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// One tenant of a seed: its brokerage, users and share of the properties.
#[derive(Debug, Clone)]
pub struct TenantPlan {
    /// Every id of the tenant is named under this prefix, e.g. `seed/42/3`.
    pub prefix: String,
    pub seed: u64,
    pub index: u32,
    pub name: String,
    pub slug: String,
    pub admin: User,
    pub agents: Vec<User>,
    /// The integration user provider reports (deliveries, replies) come from.
    pub mailer: User,
    /// Index into [`CITIES`] of the city the agency is based in.
    pub home: usize,
    /// How many properties the tenant gets.
    pub properties: u64,
    /// How many deals the tenants before this one have: where this tenant
    /// starts in [`STAGE_CYCLE`].
    pub first_deal: u64,
    /// A tag every property of the tenant carries (the demo's `demo`).
    pub tag: Option<&'static str>,
}

/// A user to create, by display name and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub display_name: String,
    pub email: String,
}

impl TenantPlan {
    /// The id of `step` of the `index`th `what` (`property`, `user`, `tenant`).
    pub fn id(&self, what: &str, index: u64, step: &str) -> Uuid {
        id(&format!("{}/{what}/{index}/{step}", self.prefix))
    }

    pub fn country(&self) -> Country {
        CITIES[self.home].country
    }

    pub fn time_zone(&self) -> &'static str {
        self.country().time_zone()
    }
}

/// How many of `properties` tenant `index` of `tenants` gets: an even
/// share, the first ones one more while the remainder lasts.
pub fn properties_of(index: u32, tenants: u32, properties: u64) -> u64 {
    let tenants = u64::from(tenants.max(1));
    properties / tenants + u64::from(u64::from(index) < properties % tenants)
}

/// Agents a tenant with `properties` properties has: one per 2,000, 2 to 25.
pub fn agents_for(properties: u64) -> usize {
    // A count beyond usize is more than 25 too.
    usize::try_from(properties.div_ceil(2_000)).map_or(25, |n| n.clamp(2, 25))
}

/// The slug of tenant `index`: `seed-01`… for the default seed; other seeds
/// carry their number (`seed-7-01`) so that several can share a database.
pub fn slug(seed: u64, index: u32) -> String {
    if seed == super::DEFAULT_SEED {
        format!("seed-{:02}", index + 1)
    } else {
        format!("seed-{seed}-{:02}", index + 1)
    }
}

/// The tenants of a seed, each with its share of `properties`.
pub fn tenants(seed: u64, tenants: u32, properties: u64) -> Vec<TenantPlan> {
    let mut first_deal = 0;
    (0..tenants)
        .map(|index| {
            let count = properties_of(index, tenants, properties);
            let plan = tenant(seed, index, count, first_deal);
            first_deal += deals_before(count);
            plan
        })
        .collect()
}

fn tenant(seed: u64, index: u32, properties: u64, first_deal: u64) -> TenantPlan {
    let mut rng = Rng::new(&[seed, u64::from(index), 0x7465_6e61_6e74]);
    let home = rng.weighted(&catalog::city_weights());
    let slug = slug(seed, index);
    let domain = format!("{slug}.deedlog.example");
    let owner = Person::draw(&mut rng);
    let mut agents: Vec<User> = Vec::new();
    for k in 0..agents_for(properties) {
        let person = Person::draw(&mut rng);
        let mut email = format!("{}@{domain}", person.local_part());
        if agents.iter().any(|a| a.email == email) {
            email = format!("{}{}@{domain}", person.local_part(), k + 1);
        }
        agents.push(User {
            display_name: person.name(),
            email,
        });
    }
    TenantPlan {
        prefix: format!("seed/{seed}/{index}"),
        seed,
        index,
        name: names::agency_name(&mut rng, CITIES[home].name),
        admin: User {
            display_name: owner.name(),
            email: format!("admin@{domain}"),
        },
        agents,
        mailer: User {
            display_name: "Mail provider (webhooks)".to_owned(),
            email: format!("mailer@{domain}"),
        },
        slug,
        home,
        properties,
        first_deal,
        tag: None,
    }
}

/// Whether the `index`th property of a tenant gets a deal: 7 in every 20.
pub fn has_deal(index: u64) -> bool {
    (index % 20).is_multiple_of(3)
}

/// How many of the first `count` properties of a tenant get a deal.
pub fn deals_before(count: u64) -> u64 {
    (count / 20) * 7 + (count % 20).div_ceil(3)
}

/// The stage each deal ends at, dealt in turn to a seed's deals (across
/// tenants, in tenant then property order). Every stage is in it, so any
/// 14 deals in a row (a tenant with 40 properties has them) reach every stage.
pub const STAGE_CYCLE: [Stage; 14] = [
    Stage::Lead,
    Stage::Qualified,
    Stage::Viewing,
    Stage::ClosedWon,
    Stage::Offer,
    Stage::ClosedLost,
    Stage::Negotiation,
    Stage::UnderContract,
    Stage::Lead,
    Stage::Viewing,
    Stage::Qualified,
    Stage::ClosedLost,
    Stage::Offer,
    Stage::ClosedWon,
];

/// A deal stage: the deals domain's own, so the plan moves deals only as
/// the domain allows.
pub use deedlog_deals_domain::Stage;

/// A listing status and a property kind: the properties domain's own.
pub use deedlog_properties_domain::model::PropertyKind as Kind;
pub use deedlog_properties_domain::ListingStatus as Listing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
}

/// Where a property's attributes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Manual,
    Import,
    Provider(&'static str),
}

/// A provider's report on a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Opened,
    SoftBounced(&'static str),
    HardBounced(&'static str),
}

/// What the rules will make of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Queued,
    /// Refused for a standing reason (no consent, unsubscribed).
    Refused,
    /// An sms: queued, or refused in quiet hours, which depend on the clock
    /// (so no step depends on it).
    Either,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub street: String,
    pub postal_code: &'static str,
    pub city: &'static str,
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub rooms: Option<i64>,
    pub bedrooms: Option<i64>,
    pub bathrooms: Option<i64>,
    pub living_area_m2: Option<i64>,
    pub plot_area_m2: Option<i64>,
    pub year_built: Option<i64>,
}

/// Whose token sends a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The tenant's `n`th agent.
    Agent(usize),
    /// The integration user provider reports come from.
    Mailer,
}

/// One command, with the ids it names. Money is in euro cents.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    CreateProperty {
        id: Uuid,
        address: Address,
        kind: Kind,
        attributes: Attributes,
        source: Source,
        confidence_pct: u32,
        asking_price: i64,
        tags: Vec<&'static str>,
    },
    ChangeAskingPrice {
        property: Uuid,
        price: i64,
    },
    RecordValuation {
        property: Uuid,
        value: i64,
        provider: Option<&'static str>,
        days_ago: u32,
    },
    ChangeListingStatus {
        property: Uuid,
        to: Listing,
    },
    CreateContact {
        id: Uuid,
        name: String,
        email: String,
        phone: Option<String>,
        address: Option<Address>,
    },
    GrantConsent {
        contact: Uuid,
        channel: Channel,
        source: &'static str,
    },
    WithdrawConsent {
        contact: Uuid,
        channel: Channel,
        source: &'static str,
    },
    Unsubscribe {
        contact: Uuid,
    },
    SendMessage {
        contact: Uuid,
        message: Uuid,
        conversation: Uuid,
        channel: Channel,
        subject: Option<String>,
        body: String,
        property: Uuid,
        deal: Option<Uuid>,
        expect: Expect,
    },
    RecordDelivery {
        contact: Uuid,
        message: Uuid,
        status: Delivery,
        provider_event_id: String,
    },
    RecordReply {
        contact: Uuid,
        message: Uuid,
        in_reply_to: Uuid,
        conversation: Uuid,
        body: &'static str,
        provider_event_id: String,
    },
    ResumeCadence {
        contact: Uuid,
    },
    OpenDeal {
        id: Uuid,
        property: Uuid,
        buyer: Uuid,
        commission: i64,
        expected_close_in_days: Option<u32>,
    },
    MoveStage {
        deal: Uuid,
        to: Stage,
    },
    SetOffer {
        deal: Uuid,
        offer: i64,
    },
    SetProbability {
        deal: Uuid,
        pct: u32,
    },
    WinDeal {
        deal: Uuid,
        final_price: i64,
    },
    LoseDeal {
        deal: Uuid,
        reason: &'static str,
    },
}

impl Action {
    /// The step's name in its command id and in error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateProperty { .. } => "create-property",
            Action::ChangeAskingPrice { .. } => "change-asking-price",
            Action::RecordValuation { .. } => "record-valuation",
            Action::ChangeListingStatus { .. } => "change-listing-status",
            Action::CreateContact { .. } => "create-contact",
            Action::GrantConsent { .. } => "grant-consent",
            Action::WithdrawConsent { .. } => "withdraw-consent",
            Action::Unsubscribe { .. } => "unsubscribe",
            Action::SendMessage { .. } => "send-message",
            Action::RecordDelivery { .. } => "record-delivery",
            Action::RecordReply { .. } => "record-reply",
            Action::ResumeCadence { .. } => "resume-cadence",
            Action::OpenDeal { .. } => "open-deal",
            Action::MoveStage { .. } => "move-stage",
            Action::SetOffer { .. } => "set-offer",
            Action::SetProbability { .. } => "set-probability",
            Action::WinDeal { .. } => "win-deal",
            Action::LoseDeal { .. } => "lose-deal",
        }
    }
}

/// One step of a story: a command under a fixed id, sent by `actor`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub command_id: Uuid,
    pub actor: Actor,
    pub action: Action,
}

/// Everything that happens to one property, its buyer and its deal, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub index: u64,
    pub property: Uuid,
    pub city: &'static str,
    pub asking_price: i64,
    pub living_area_m2: Option<i64>,
    /// The listing status the story leaves the property in.
    pub listing: Listing,
    /// The stage the story leaves its deal at, if it has one.
    pub deal: Option<Stage>,
    pub steps: Vec<Step>,
}
