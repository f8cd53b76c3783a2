//! A fresh database per test (log and read models migrated), a way to
//! append events and to project them. The database comes from `deedlog-testing`.
//! The events the tests start from are built here, once.

use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_communications_domain::{Channel, Event as ContactEvent, LawfulBasis};
use deedlog_kernel::{StreamId, TenantId, UserId};
use deedlog_properties_domain::model::{Address, Attributes, PropertyKind};
use deedlog_properties_domain::Event as PropertyEvent;
use deedlog_read_model::TenantScope;

pub use deedlog_testing::{eur, new_stream, TestDb};

/// 1 December 2026, 09:00 UTC, plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("instant")
        + Duration::hours(hours)
}

/// A read-only scope bound to `tenant`, as the API opens one.
pub async fn tenant_scope(db: &TestDb, tenant: TenantId) -> TenantScope {
    TenantScope::begin(&db.pool, tenant.as_uuid())
        .await
        .expect("scope")
}

/// What a test says of a new property; a test changes what it needs with
/// `..NewProperty::default()` and appends `event()`.
pub struct NewProperty {
    pub street: &'static str,
    pub city: &'static str,
    pub kind: PropertyKind,
    pub price: Option<i64>,
    pub agent: Option<UserId>,
    pub tags: &'static [&'static str],
}

impl Default for NewProperty {
    /// An apartment at Lindenstraße 5, Berlin, for 300,000 EUR, no agent, no tags.
    fn default() -> Self {
        Self {
            street: "Lindenstraße 5",
            city: "Berlin",
            kind: PropertyKind::Apartment,
            price: Some(30_000_000),
            agent: None,
            tags: &[],
        }
    }
}

impl NewProperty {
    pub fn event(&self) -> PropertyEvent {
        PropertyEvent::PropertyCreated {
            address: Address {
                street: self.street.into(),
                postal_code: "10969".into(),
                city: self.city.into(),
                country: "DE".into(),
                latitude: None,
                longitude: None,
            },
            kind: self.kind,
            attributes: Attributes::default(),
            asking_price: self.price.map(eur),
            agent: self.agent,
            owner: None,
            tags: self.tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

/// Appends the default property's creation to `property` at `at(0)`;
/// returns its position.
pub async fn create_property(db: &TestDb, tenant: TenantId, property: StreamId) -> u64 {
    let created = NewProperty::default().event();
    db.append_at(tenant, property, "property", at(0), &[created])
        .await
}

/// A contact with an email address and a phone number, no postal address.
pub fn contact_created(name: &str, email: &str, phone: &str) -> ContactEvent {
    ContactEvent::ContactCreated {
        name: name.into(),
        email: Some(email.into()),
        phone: Some(phone.into()),
        address: None,
    }
}

/// Consent to email, given on the web form.
pub fn email_consent() -> ContactEvent {
    ContactEvent::ConsentGranted {
        channel: Channel::Email,
        lawful_basis: LawfulBasis::Consent,
        source: "web form".into(),
    }
}
