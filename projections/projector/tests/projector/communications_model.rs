//! The communications read model holds what the contacts' events say:
//! details, compliance per channel, the suppression list, messages (refused
//! ones too) and conversations.
//!
//! Histories are made by the domain's own decider from commands, so the
//! events are exactly those the service would store.

use crate::support::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_communications_domain::{
    Action, Channel, Command, Communications as Rules, DeliveryStatus, Event, LawfulBasis,
    PostalAddress, SendPolicy, State,
};
use deedlog_kernel::{Decider, StreamId, TenantId};
use deedlog_projector::projections::communications::Communications;
use deedlog_projector::{rebuild, Projection};
use deedlog_read_model::communications::{
    ComplianceRow, ContactRow, ConversationRow, MessageRow, SuppressionRow,
};
use deedlog_read_model::Int64;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

/// Monday 2 November 2026, 10:00 UTC, plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0)
        .single()
        .expect("instant")
        + Duration::minutes(minutes)
}

/// One contact whose commands go through the domain's decider and whose
/// events are appended to the log as the service would.
struct Sim {
    tenant: TenantId,
    stream: StreamId,
    actor: String,
    state: State,
    /// Log position of the last event appended.
    last: u64,
}

impl Sim {
    fn new(tenant: TenantId) -> Self {
        Self {
            tenant,
            stream: new_stream(),
            actor: format!("user:{}", Uuid::now_v7()),
            state: State::default(),
            last: 0,
        }
    }

    /// A contact `name` created at minute 0, who opted in to `channel` at
    /// minute 1.
    async fn consenting(db: &TestDb, tenant: TenantId, name: &str, channel: Channel) -> Self {
        let mut sim = Sim::new(tenant);
        sim.create(db, at(0), name).await;
        sim.grant(db, at(1), channel).await;
        sim
    }

    fn id(&self) -> Uuid {
        self.stream.as_uuid()
    }

    async fn try_run(
        &mut self,
        db: &TestDb,
        at: DateTime<Utc>,
        action: Action,
    ) -> Result<Vec<Event>, deedlog_communications_domain::Error> {
        let events = Rules::decide(&self.state, &Command { at, action })?;
        for event in &events {
            self.state = Rules::evolve(std::mem::take(&mut self.state), event);
        }
        if !events.is_empty() {
            self.last = db
                .append_to(
                    self.tenant,
                    self.stream,
                    "contact",
                    &events,
                    metadata_by(self.tenant, &self.actor, at),
                )
                .await;
        }
        Ok(events)
    }

    async fn run(&mut self, db: &TestDb, at: DateTime<Utc>, action: Action) -> Vec<Event> {
        self.try_run(db, at, action).await.expect("decided")
    }

    async fn create(&mut self, db: &TestDb, at: DateTime<Utc>, name: &str) {
        self.run(
            db,
            at,
            Action::Create {
                name: name.into(),
                email: Some(format!(
                    "{}@example.de",
                    name.to_lowercase().replace(' ', ".")
                )),
                phone: Some("+4915112345678".into()),
                address: Some(address("Schönhauser Allee 80")),
            },
        )
        .await;
    }

    async fn grant(&mut self, db: &TestDb, at: DateTime<Utc>, channel: Channel) {
        self.run(
            db,
            at,
            Action::GrantConsent {
                channel,
                lawful_basis: LawfulBasis::Consent,
                source: "web form".into(),
            },
        )
        .await;
    }

    /// Sends a message in `conversation`; returns its id.
    async fn send(
        &mut self,
        db: &TestDb,
        at: DateTime<Utc>,
        channel: Channel,
        conversation: Option<Uuid>,
    ) -> Uuid {
        let message_id = Uuid::now_v7();
        self.run(db, at, send(message_id, conversation, channel, None, None))
            .await;
        message_id
    }

    async fn report(
        &mut self,
        db: &TestDb,
        at: DateTime<Utc>,
        message_id: Uuid,
        status: DeliveryStatus,
    ) {
        self.run(
            db,
            at,
            Action::RecordDelivery {
                message_id,
                status,
                provider_event_id: format!("evt_{}", Uuid::now_v7().simple()),
            },
        )
        .await;
    }

    /// Records a reply to `original` in its conversation; returns the reply's id.
    async fn reply(
        &mut self,
        db: &TestDb,
        at: DateTime<Utc>,
        original: Option<Uuid>,
        conversation: Uuid,
        channel: Channel,
    ) -> Uuid {
        let message_id = Uuid::now_v7();
        self.run(
            db,
            at,
            Action::RecordReply {
                message_id,
                in_reply_to: original,
                conversation_id: conversation,
                channel,
                body: "Saturday at 11 works for me.".into(),
                provider_event_id: format!("inbound_{}", message_id.simple()),
            },
        )
        .await;
        message_id
    }
}

fn address(street: &str) -> PostalAddress {
    PostalAddress {
        street: street.into(),
        postal_code: "10439".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    }
}

fn send(
    message_id: Uuid,
    conversation: Option<Uuid>,
    channel: Channel,
    property: Option<Uuid>,
    deal: Option<Uuid>,
) -> Action {
    Action::SendMessage {
        message_id,
        conversation_id: conversation.unwrap_or(message_id),
        channel,
        subject: matches!(channel, Channel::Email | Channel::Letter)
            .then(|| "Viewing on Saturday".to_owned()),
        body: "The viewing is confirmed for Saturday at 11:00.".into(),
        property,
        deal,
        policy: SendPolicy::default(),
    }
}

async fn rows_of<T: DeserializeOwned>(db: &TestDb, table: &str, contact: Uuid) -> Vec<T> {
    let values: Vec<Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM rm_communications.{table} t WHERE contact_id = $1 ORDER BY to_jsonb(t)"
    ))
    .bind(contact)
    .fetch_all(&db.pool)
    .await
    .expect("rows");
    values
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a row"))
        .collect()
}

async fn contact(db: &TestDb, contact: Uuid) -> ContactRow {
    let mut rows = rows_of::<ContactRow>(db, "contacts", contact).await;
    assert_eq!(rows.len(), 1, "one contact row");
    rows.remove(0)
}

/// The one row of `contact` in `table` that `wanted` picks; `what` names it.
async fn row_of<T: DeserializeOwned>(
    db: &TestDb,
    table: &str,
    contact: Uuid,
    wanted: impl Fn(&T) -> bool,
    what: &str,
) -> T {
    rows_of::<T>(db, table, contact)
        .await
        .into_iter()
        .find(wanted)
        .unwrap_or_else(|| panic!("{what}"))
}

async fn compliance(db: &TestDb, contact: Uuid, channel: &str) -> ComplianceRow {
    let wanted = |r: &ComplianceRow| r.channel == channel;
    row_of(
        db,
        "compliance",
        contact,
        wanted,
        "a compliance row for the channel",
    )
    .await
}

async fn message(db: &TestDb, contact: Uuid, id: Uuid) -> MessageRow {
    let wanted = |r: &MessageRow| r.message_id == id;
    row_of(db, "messages", contact, wanted, "the message's row").await
}

async fn conversation(db: &TestDb, contact: Uuid, id: Uuid) -> ConversationRow {
    let wanted = |r: &ConversationRow| r.conversation_id == id;
    row_of(
        db,
        "conversations",
        contact,
        wanted,
        "the conversation's row",
    )
    .await
}

/// A suppression: (channel, reason, since, source, message_id).
type Suppression = (String, String, DateTime<Utc>, Option<String>, Option<Uuid>);

/// A contact's suppressions, sorted.
async fn suppressions(db: &TestDb, contact: Uuid) -> Vec<Suppression> {
    let mut rows: Vec<_> = rows_of::<SuppressionRow>(db, "suppressions", contact)
        .await
        .into_iter()
        .map(|r| (r.channel, r.reason, r.since, r.source, r.message_id))
        .collect();
    rows.sort();
    rows
}

/// A provider's bounce report.
fn bounce(hard: bool, detail: &str) -> DeliveryStatus {
    DeliveryStatus::Bounced {
        hard,
        detail: detail.into(),
    }
}

/// The message `id` of `contact` is on record as bounced at `when`.
async fn assert_bounced(
    db: &TestDb,
    contact: Uuid,
    id: Uuid,
    when: DateTime<Utc>,
    hard: bool,
    detail: &str,
) {
    let m = message(db, contact, id).await;
    assert_eq!(
        (
            m.status.as_str(),
            m.bounced_at,
            m.bounce_hard,
            m.bounce_detail.as_deref()
        ),
        ("bounced", Some(when), Some(hard), Some(detail))
    );
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn consent_then_a_queued_message_fill_contact_compliance_message_and_conversation() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut lena = Sim::new(tenant);
    lena.create(&db, at(0), "Lena Hoffmann").await;
    let created = lena.last;
    lena.grant(&db, at(1), Channel::Email).await;
    let granted = lena.last;
    let (property, deal) = (Uuid::now_v7(), Uuid::now_v7());
    let message_id = Uuid::now_v7();
    let conversation_id = Uuid::now_v7();
    lena.run(
        &db,
        at(2),
        send(
            message_id,
            Some(conversation_id),
            Channel::Email,
            Some(property),
            Some(deal),
        ),
    )
    .await;
    let sent = lena.last;

    let mut projector = db.projector(Arc::new(Communications), 10).await;
    assert_eq!(catch_up(&mut projector).await, 3);

    let row = contact(&db, lena.id()).await;
    assert_eq!(row.tenant_id, tenant.as_uuid());
    assert_eq!(row.name, "Lena Hoffmann");
    assert_eq!(row.email.as_deref(), Some("lena.hoffmann@example.de"));
    assert_eq!(row.phone.as_deref(), Some("+4915112345678"));
    assert_eq!(
        (
            row.street.as_deref(),
            row.postal_code.as_deref(),
            row.city.as_deref(),
            row.country.as_deref()
        ),
        (
            Some("Schönhauser Allee 80"),
            Some("10439"),
            Some("Berlin"),
            Some("DE")
        )
    );
    assert!(!row.do_not_call && !row.unsubscribed && !row.paused_after_reply);
    assert!(row.hard_bounced_channels.is_empty() && row.paused_since.is_none());
    assert_eq!(
        (row.messages_out, row.messages_refused, row.messages_in),
        (1, 0, 0)
    );
    assert_eq!(row.last_message_at, Some(at(2)));
    assert_eq!(
        (row.version, row.last_position),
        (Int64(3), Int64(sent as i64))
    );
    assert_eq!((row.created_at, row.updated_at), (at(0), at(2)));

    let email = compliance(&db, lena.id(), "email").await;
    assert_eq!(email.consent, "granted");
    assert_eq!(email.lawful_basis.as_deref(), Some("consent"));
    assert_eq!(email.consent_source.as_deref(), Some("web form"));
    assert_eq!(email.consent_changed_at, Some(at(1)));
    assert!(email.reachable && email.sendable && !email.suppressed && !email.hard_bounced);
    assert!(email.blocked_by.is_empty() && email.suppression_reasons.is_empty());
    assert_eq!(
        (email.last_position, email.updated_at),
        (Int64(granted as i64), at(1))
    );
    for channel in ["sms", "call", "letter"] {
        let other = compliance(&db, lena.id(), channel).await;
        assert_eq!(other.consent, "none", "{channel}");
        assert_eq!(
            (
                other.lawful_basis,
                other.consent_source,
                other.consent_changed_at
            ),
            (None, None, None)
        );
        assert_eq!(other.blocked_by, strings(&["no_consent"]), "{channel}");
        assert!(other.reachable && !other.sendable && !other.suppressed);
        assert_eq!(
            (other.last_position, other.updated_at),
            (Int64(created as i64), at(0))
        );
    }
    assert!(suppressions(&db, lena.id()).await.is_empty());

    let m = message(&db, lena.id(), message_id).await;
    assert_eq!(
        (m.direction.as_str(), m.status.as_str(), m.channel.as_str()),
        ("outbound", "queued", "email")
    );
    assert_eq!(m.conversation_id, conversation_id);
    assert_eq!(m.subject.as_deref(), Some("Viewing on Saturday"));
    assert_eq!(
        m.body.as_deref(),
        Some("The viewing is confirmed for Saturday at 11:00.")
    );
    assert_eq!((m.property_id, m.deal_id), (Some(property), Some(deal)));
    assert_eq!(
        (m.message_at, m.actor.as_str()),
        (at(2), lena.actor.as_str())
    );
    assert!(m.refusal_reasons.is_none() && m.refusal_codes.is_empty());
    assert!(m.delivered_at.is_none() && m.opened_at.is_none() && m.bounced_at.is_none());
    assert!(m.in_reply_to.is_none() && m.replied_at.is_none() && m.provider_event_id.is_none());
    assert_eq!(
        (m.position, m.last_position),
        (Int64(sent as i64), Int64(sent as i64))
    );

    let c = conversation(&db, lena.id(), conversation_id).await;
    assert_eq!(c.channels, strings(&["email"]));
    assert_eq!((c.property_id, c.deal_id), (Some(property), Some(deal)));
    assert_eq!(
        (c.started_at, c.last_message_at, c.last_outbound_at),
        (at(2), Some(at(2)), Some(at(2)))
    );
    assert_eq!(c.last_direction.as_deref(), Some("outbound"));
    assert_eq!((c.last_inbound_at, c.last_refused_at), (None, None));
    assert_eq!(
        (c.messages_out, c.messages_refused, c.messages_in),
        (1, 0, 0)
    );
    assert_eq!((c.status.as_str(), c.paused_since), ("open", None));
    assert_eq!((c.last_position, c.updated_at), (Int64(sent as i64), at(2)));
}

#[tokio::test]
async fn a_refused_send_is_a_row_with_every_reason_the_domain_gave() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut refused = Vec::new();

    // No consent for email.
    let mut a = Sim::new(tenant);
    a.create(&db, at(0), "Anna Schmidt").await;
    refused.push((a.id(), a.send(&db, at(1), Channel::Email, None).await));
    // Consent for sms, but on the do-not-call list.
    let mut b = Sim::consenting(&db, tenant, "Bernd Meyer", Channel::Sms).await;
    b.run(&db, at(2), Action::SetDoNotCall(true)).await;
    refused.push((b.id(), b.send(&db, at(3), Channel::Sms, None).await));
    // Consent for email, then unsubscribed.
    let mut c = Sim::consenting(&db, tenant, "Clara Weber", Channel::Email).await;
    c.run(
        &db,
        at(2),
        Action::Unsubscribe {
            source: "unsubscribe link".into(),
        },
    )
    .await;
    refused.push((c.id(), c.send(&db, at(3), Channel::Email, None).await));
    // An email that bounced hard.
    let mut d = Sim::consenting(&db, tenant, "Dieter Wolf", Channel::Email).await;
    let bounced = d.send(&db, at(2), Channel::Email, None).await;
    d.report(
        &db,
        at(3),
        bounced,
        bounce(true, "550 5.1.1 mailbox unavailable"),
    )
    .await;
    refused.push((d.id(), d.send(&db, at(4), Channel::Email, None).await));
    // The contact replied: the cadence is paused.
    let mut e = Sim::consenting(&db, tenant, "Eva Braun", Channel::Letter).await;
    let letter = e.send(&db, at(2), Channel::Letter, None).await;
    e.reply(&db, at(3), Some(letter), letter, Channel::Letter)
        .await;
    let paused = e.send(&db, at(4), Channel::Letter, Some(letter)).await;
    refused.push((e.id(), paused));
    // Three letters this week already.
    let mut f = Sim::consenting(&db, tenant, "Frank Koch", Channel::Letter).await;
    for n in 0..3 {
        f.send(&db, at(2 + n), Channel::Letter, None).await;
    }
    refused.push((f.id(), f.send(&db, at(10), Channel::Letter, None).await));
    // An sms at 22:00 UTC (the default policy's time zone).
    let mut g = Sim::consenting(&db, tenant, "Gina Roth", Channel::Sms).await;
    refused.push((g.id(), g.send(&db, at(12 * 60), Channel::Sms, None).await));
    // Everything at once: no consent, do-not-call, replied, quiet hours.
    let mut h = Sim::new(tenant);
    h.create(&db, at(0), "Hans Vogel").await;
    h.run(&db, at(1), Action::SetDoNotCall(true)).await;
    let inbound = Uuid::now_v7();
    h.reply(&db, at(2), None, inbound, Channel::Call).await;
    refused.push((
        h.id(),
        h.send(&db, at(12 * 60 + 30), Channel::Call, None).await,
    ));

    let mut projector = db.projector(Arc::new(Communications), 4).await;
    catch_up(&mut projector).await;

    let expected: [&[&str]; 8] = [
        &["no_consent"],
        &["do_not_call"],
        &["unsubscribed"],
        &["hard_bounced"],
        &["paused_after_reply"],
        &["cadence_limit"],
        &["quiet_hours"],
        &[
            "no_consent",
            "do_not_call",
            "paused_after_reply",
            "quiet_hours",
        ],
    ];
    for ((contact_id, message_id), codes) in refused.iter().zip(expected) {
        let m = message(&db, *contact_id, *message_id).await;
        assert_eq!(
            (m.direction.as_str(), m.status.as_str()),
            ("outbound", "refused")
        );
        assert_eq!(m.refusal_codes, strings(codes));
        assert!(
            m.subject.is_none() && m.body.is_none(),
            "a refusal keeps no text"
        );
        let row = contact(&db, *contact_id).await;
        assert_eq!(row.messages_refused, 1, "{codes:?}");
    }
    // The reasons are kept whole, as the event has them.
    let reasons = |i: usize| {
        let (contact_id, message_id) = refused[i];
        let db = &db;
        async move {
            message(db, contact_id, message_id)
                .await
                .refusal_reasons
                .expect("reasons")
        }
    };
    assert_eq!(
        reasons(0).await,
        json!([{"code": "no_consent", "channel": "email"}])
    );
    assert_eq!(
        reasons(3).await,
        json!([{"code": "hard_bounced", "channel": "email"}])
    );
    assert_eq!(
        reasons(4).await,
        json!([{"code": "paused_after_reply", "since": "2026-11-02T10:03:00Z"}])
    );
    assert_eq!(
        reasons(5).await,
        json!([{"code": "cadence_limit", "limit": 3, "window_days": 7}])
    );
    assert_eq!(
        reasons(6).await,
        json!([{"code": "quiet_hours", "local_time": "22:00:00", "time_zone": "UTC"}])
    );

    // A refused message counts in its conversation, but is not a message there.
    let (contact_id, message_id) = refused[0];
    let c = conversation(&db, contact_id, message_id).await;
    assert_eq!(
        (c.messages_out, c.messages_refused, c.messages_in),
        (0, 1, 0)
    );
    assert_eq!(
        (c.started_at, c.last_refused_at, c.last_message_at),
        (at(1), Some(at(1)), None)
    );
    assert_eq!(c.last_direction, None);
    // The refusal in an existing conversation joins it.
    let c = conversation(&db, e.id(), letter).await;
    assert_eq!(
        (c.messages_out, c.messages_refused, c.messages_in),
        (1, 1, 1)
    );
    let frank = contact(&db, f.id()).await;
    assert_eq!(
        (
            frank.messages_out,
            frank.messages_refused,
            frank.last_message_at
        ),
        (3, 1, Some(at(4)))
    );
}

#[tokio::test]
async fn delivery_reports_move_a_message_forward_and_a_hard_bounce_suppresses_its_channel() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut lena = Sim::consenting(&db, tenant, "Lena Hoffmann", Channel::Email).await;
    let first = lena.send(&db, at(2), Channel::Email, None).await;
    let second = lena.send(&db, at(3), Channel::Email, None).await;
    let third = lena.send(&db, at(4), Channel::Email, None).await;
    let mut projector = db.projector(Arc::new(Communications), 1).await;
    catch_up(&mut projector).await;

    lena.report(&db, at(10), first, DeliveryStatus::Delivered)
        .await;
    catch_up(&mut projector).await;
    let m = message(&db, lena.id(), first).await;
    assert_eq!(
        (m.status.as_str(), m.delivered_at, m.opened_at),
        ("delivered", Some(at(10)), None)
    );
    assert_eq!(
        (m.last_position, m.updated_at),
        (Int64(lena.last as i64), at(10))
    );
    lena.report(&db, at(11), first, DeliveryStatus::Opened)
        .await;
    // Out of order: opened before delivered stays opened.
    lena.report(&db, at(12), second, DeliveryStatus::Opened)
        .await;
    lena.report(&db, at(13), second, DeliveryStatus::Delivered)
        .await;
    lena.report(&db, at(14), third, bounce(false, "452 mailbox full"))
        .await;
    catch_up(&mut projector).await;
    let m = message(&db, lena.id(), first).await;
    assert_eq!(
        (m.status.as_str(), m.delivered_at, m.opened_at),
        ("opened", Some(at(10)), Some(at(11)))
    );
    let m = message(&db, lena.id(), second).await;
    assert_eq!(
        (m.status.as_str(), m.delivered_at, m.opened_at),
        ("opened", Some(at(13)), Some(at(12)))
    );
    assert_bounced(&db, lena.id(), third, at(14), false, "452 mailbox full").await;
    let email = compliance(&db, lena.id(), "email").await;
    assert!(
        email.sendable && !email.hard_bounced,
        "a soft bounce blocks nothing"
    );
    assert!(suppressions(&db, lena.id()).await.is_empty());

    lena.report(
        &db,
        at(20),
        third,
        bounce(true, "550 5.1.1 mailbox unavailable"),
    )
    .await;
    let hard = lena.last;
    catch_up(&mut projector).await;
    let mailbox = "550 5.1.1 mailbox unavailable";
    assert_bounced(&db, lena.id(), third, at(20), true, mailbox).await;
    let email = compliance(&db, lena.id(), "email").await;
    assert!(email.hard_bounced && email.suppressed && !email.sendable);
    assert_eq!(email.suppression_reasons, strings(&["hard_bounced"]));
    assert_eq!(email.blocked_by, strings(&["hard_bounced"]));
    assert_eq!(
        (email.last_position, email.updated_at),
        (Int64(hard as i64), at(20))
    );
    assert_eq!(
        contact(&db, lena.id()).await.hard_bounced_channels,
        strings(&["email"])
    );
    assert_eq!(
        suppressions(&db, lena.id()).await,
        vec![(
            "email".to_owned(),
            "hard_bounced".to_owned(),
            at(20),
            None,
            Some(third)
        )]
    );
    let sms = compliance(&db, lena.id(), "sms").await;
    assert!(!sms.hard_bounced && !sms.suppressed);

    // A new email address clears the bounce.
    let events = lena
        .run(
            &db,
            at(30),
            Action::Update {
                name: "Lena Hoffmann".into(),
                email: Some("lena@hoffmann-family.de".into()),
                phone: Some("+4915112345678".into()),
                address: None,
            },
        )
        .await;
    assert!(matches!(
        events.as_slice(),
        [
            Event::ContactUpdated { .. },
            Event::HardBounceCleared {
                channel: Channel::Email
            }
        ]
    ));
    catch_up(&mut projector).await;
    let row = contact(&db, lena.id()).await;
    assert_eq!(row.email.as_deref(), Some("lena@hoffmann-family.de"));
    assert_eq!(
        (row.street, row.city, row.country),
        (None, None, None),
        "an update replaces the details"
    );
    assert!(row.hard_bounced_channels.is_empty());
    let email = compliance(&db, lena.id(), "email").await;
    assert!(!email.hard_bounced && !email.suppressed && email.sendable);
    let letter = compliance(&db, lena.id(), "letter").await;
    assert!(!letter.reachable, "no postal address any more");
    assert!(suppressions(&db, lena.id()).await.is_empty());
}

#[tokio::test]
async fn a_reply_pauses_the_contact_and_its_conversations_until_the_cadence_resumes() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut lena = Sim::consenting(&db, tenant, "Lena Hoffmann", Channel::Email).await;
    let first = lena.send(&db, at(2), Channel::Email, None).await;
    let second = lena.send(&db, at(3), Channel::Email, None).await;
    let second_sent = lena.last as i64;
    let projection: Arc<dyn Projection> = Arc::new(Communications);
    let mut projector = db.projector(projection.clone(), 1).await;
    catch_up(&mut projector).await;

    // The reply comes in the first conversation; the second is untouched.
    let reply = lena
        .reply(&db, at(10), Some(first), first, Channel::Email)
        .await;
    catch_up(&mut projector).await;
    let row = contact(&db, lena.id()).await;
    assert!(row.paused_after_reply);
    assert_eq!(row.paused_since, Some(at(10)));
    assert_eq!(
        (row.messages_out, row.messages_in, row.last_message_at),
        (2, 1, Some(at(10)))
    );
    let r = message(&db, lena.id(), reply).await;
    assert_eq!(
        (r.direction.as_str(), r.status.as_str(), r.channel.as_str()),
        ("inbound", "received", "email")
    );
    assert_eq!((r.in_reply_to, r.conversation_id), (Some(first), first));
    assert_eq!(r.body.as_deref(), Some("Saturday at 11 works for me."));
    assert_eq!(
        r.provider_event_id,
        Some(format!("inbound_{}", reply.simple()))
    );
    assert_eq!(
        message(&db, lena.id(), first).await.replied_at,
        Some(at(10))
    );
    let c = conversation(&db, lena.id(), first).await;
    assert_eq!(
        (c.status.as_str(), c.paused_since),
        ("paused", Some(at(10)))
    );
    assert_eq!((c.messages_out, c.messages_in), (1, 1));
    assert_eq!(
        (
            c.last_direction.as_deref(),
            c.last_message_at,
            c.last_inbound_at
        ),
        (Some("inbound"), Some(at(10)), Some(at(10)))
    );
    let other = conversation(&db, lena.id(), second).await;
    assert_eq!(
        (other.status.as_str(), other.paused_since),
        ("paused", Some(at(10))),
        "the pause is the contact's: every conversation of theirs is paused"
    );
    assert_eq!(
        (other.last_position, other.updated_at),
        (Int64(second_sent), at(3)),
        "the pause is not a message of the other conversation"
    );
    let email = compliance(&db, lena.id(), "email").await;
    assert_eq!(email.blocked_by, strings(&["paused_after_reply"]));
    assert!(
        !email.sendable && !email.suppressed,
        "a pause blocks sends but suppresses nothing"
    );
    assert!(suppressions(&db, lena.id()).await.is_empty());

    // A second reply keeps the first one's time.
    lena.reply(&db, at(11), None, second, Channel::Email).await;
    let blocked = lena.send(&db, at(12), Channel::Email, Some(second)).await;
    catch_up(&mut projector).await;
    assert_eq!(contact(&db, lena.id()).await.paused_since, Some(at(10)));
    assert_eq!(
        message(&db, lena.id(), blocked).await.refusal_codes,
        strings(&["paused_after_reply"])
    );
    let other = conversation(&db, lena.id(), second).await;
    assert_eq!(
        (
            other.messages_out,
            other.messages_refused,
            other.messages_in
        ),
        (1, 1, 1)
    );

    lena.run(&db, at(20), Action::ResumeCadence).await;
    catch_up(&mut projector).await;
    let row = contact(&db, lena.id()).await;
    assert!(!row.paused_after_reply && row.paused_since.is_none());
    for id in [first, second] {
        let c = conversation(&db, lena.id(), id).await;
        assert_eq!((c.status.as_str(), c.paused_since), ("open", None));
    }
    let email = compliance(&db, lena.id(), "email").await;
    assert!(email.sendable && email.blocked_by.is_empty());
    assert_eq!(email.updated_at, at(20));
    lena.send(&db, at(21), Channel::Email, Some(second)).await;
    catch_up(&mut projector).await;
    assert_eq!(contact(&db, lena.id()).await.messages_out, 3);

    // Built in one batch, the model is the same.
    let live = schema_rows(&db, "rm_communications").await;
    rebuild::rebuild(&db.pool, &db.reader, projection, 1000, &mut |_| {})
        .await
        .expect("rebuild");
    assert_same_rows(&live, &schema_rows(&db, "rm_communications").await);
}

#[tokio::test]
async fn the_suppression_list_gains_and_loses_rows_as_suppressions_start_and_end() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let mut lena = Sim::new(tenant);
    lena.create(&db, at(0), "Lena Hoffmann").await;
    let mut projector = db.projector(Arc::new(Communications), 1).await;

    lena.run(&db, at(1), Action::SetDoNotCall(true)).await;
    let listed = lena.last as i64;
    catch_up(&mut projector).await;
    let dnc = |channel: &str| {
        (
            channel.to_owned(),
            "do_not_call".to_owned(),
            at(1),
            None::<String>,
            None::<Uuid>,
        )
    };
    assert_eq!(
        suppressions(&db, lena.id()).await,
        vec![dnc("call"), dnc("sms")]
    );
    let positions: Vec<i64> = rows_of::<SuppressionRow>(&db, "suppressions", lena.id())
        .await
        .iter()
        .map(|r| r.position.0)
        .collect();
    assert_eq!(positions, vec![listed, listed]);
    let call = compliance(&db, lena.id(), "call").await;
    assert!(call.suppressed && !call.sendable);
    assert_eq!(call.suppression_reasons, strings(&["do_not_call"]));
    assert_eq!(call.blocked_by, strings(&["no_consent", "do_not_call"]));
    let letter = compliance(&db, lena.id(), "letter").await;
    assert!(!letter.suppressed, "do-not-call covers calls and sms only");
    assert!(contact(&db, lena.id()).await.do_not_call);

    lena.run(
        &db,
        at(2),
        Action::Unsubscribe {
            source: "unsubscribe link".into(),
        },
    )
    .await;
    catch_up(&mut projector).await;
    assert_eq!(
        suppressions(&db, lena.id()).await,
        vec![
            dnc("call"),
            (
                "email".to_owned(),
                "unsubscribed".to_owned(),
                at(2),
                Some("unsubscribe link".to_owned()),
                None
            ),
            dnc("sms"),
        ],
        "an unsubscription leaves the do-not-call rows as they were"
    );
    let row = contact(&db, lena.id()).await;
    assert!(row.unsubscribed && row.do_not_call);

    // A new email opt-in lifts the unsubscription.
    let events = lena
        .run(
            &db,
            at(3),
            Action::GrantConsent {
                channel: Channel::Email,
                lawful_basis: LawfulBasis::Consent,
                source: "double opt-in".into(),
            },
        )
        .await;
    assert_eq!(events.len(), 2, "ConsentGranted and UnsubscribeCleared");
    catch_up(&mut projector).await;
    assert_eq!(
        suppressions(&db, lena.id()).await,
        vec![dnc("call"), dnc("sms")]
    );
    let email = compliance(&db, lena.id(), "email").await;
    assert!(email.sendable && !email.suppressed);
    assert_eq!(email.consent_source.as_deref(), Some("double opt-in"));
    assert!(!contact(&db, lena.id()).await.unsubscribed);

    // Withdrawing consent blocks the channel without suppressing it.
    lena.run(
        &db,
        at(4),
        Action::WithdrawConsent {
            channel: Channel::Email,
            source: "phone call".into(),
        },
    )
    .await;
    lena.run(&db, at(5), Action::SetDoNotCall(false)).await;
    catch_up(&mut projector).await;
    assert!(suppressions(&db, lena.id()).await.is_empty());
    let email = compliance(&db, lena.id(), "email").await;
    assert_eq!(
        (
            email.consent.as_str(),
            email.lawful_basis.as_deref(),
            email.consent_source.as_deref(),
            email.consent_changed_at
        ),
        ("withdrawn", None, Some("phone call"), Some(at(4)))
    );
    assert_eq!(email.blocked_by, strings(&["no_consent"]));
    assert!(!email.suppressed);
    assert_eq!(
        compliance(&db, lena.id(), "call").await.blocked_by,
        strings(&["no_consent"])
    );
    assert!(!contact(&db, lena.id()).await.do_not_call);

    // Listed again: a new row from the new time.
    lena.run(&db, at(6), Action::SetDoNotCall(true)).await;
    catch_up(&mut projector).await;
    let since: Vec<DateTime<Utc>> = suppressions(&db, lena.id())
        .await
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(since, vec![at(6), at(6)]);
}

#[tokio::test]
async fn events_of_a_contact_that_was_never_created_are_dead_letters() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let ghost = new_stream();
    db.append_to(
        tenant,
        ghost,
        "contact",
        &[Event::DoNotCallSet {}],
        metadata_by(tenant, "user:x", at(0)),
    )
    .await;
    let mut lena = Sim::new(tenant);
    lena.create(&db, at(1), "Lena Hoffmann").await;
    let mut projector = db.projector(Arc::new(Communications), 10).await;
    catch_up(&mut projector).await;
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deedlog_read.dead_letters WHERE projection = 'communications'"
        )
        .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM rm_communications.contacts")
            .await,
        1
    );
}

/// A tiny deterministic generator, so histories are varied but repeatable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn channel(&mut self) -> Channel {
        Channel::ALL[self.below(4) as usize]
    }
}

/// One realistic command for `sim`: consents, sends in old and new
/// conversations, provider reports, replies, resumptions, do-not-call,
/// unsubscriptions and new details. Commands the domain refuses are skipped.
async fn step(db: &TestDb, sim: &mut Sim, rng: &mut Rng, at: DateTime<Utc>, property: Uuid) {
    let contact = sim.state.0.as_ref().expect("created");
    let messages: Vec<(Uuid, Uuid, bool)> = contact
        .messages
        .iter()
        .map(|(id, m)| (*id, m.conversation_id, m.was_sent()))
        .collect();
    let pick = |rng: &mut Rng, items: &[(Uuid, Uuid, bool)]| {
        (!items.is_empty()).then(|| items[rng.below(items.len() as u64) as usize])
    };
    let sent: Vec<_> = messages.iter().copied().filter(|m| m.2).collect();
    let action = match rng.below(20) {
        0..=2 => Action::GrantConsent {
            channel: rng.channel(),
            lawful_basis: LawfulBasis::ALL[rng.below(4) as usize],
            source: ["web form", "phone call", "contract"][rng.below(3) as usize].into(),
        },
        3 => Action::WithdrawConsent {
            channel: rng.channel(),
            source: "phone call".into(),
        },
        4..=8 => {
            let conversation = if rng.below(2) == 0 {
                pick(rng, &messages).map(|m| m.1)
            } else {
                None
            };
            let property = (rng.below(2) == 0).then_some(property);
            send(Uuid::now_v7(), conversation, rng.channel(), property, None)
        }
        9..=12 => {
            let Some((message_id, _, _)) = pick(rng, &sent) else {
                return;
            };
            let status = match rng.below(4) {
                0 => DeliveryStatus::Delivered,
                1 => DeliveryStatus::Opened,
                2 => bounce(false, "452 mailbox full"),
                _ => bounce(true, "550 unknown user"),
            };
            Action::RecordDelivery {
                message_id,
                status,
                provider_event_id: format!("evt_{}", Uuid::now_v7().simple()),
            }
        }
        13 | 14 => {
            let original = pick(rng, &sent);
            let message_id = Uuid::now_v7();
            Action::RecordReply {
                message_id,
                in_reply_to: original.map(|m| m.0),
                conversation_id: original.map_or(message_id, |m| m.1),
                channel: rng.channel(),
                body: "Thanks, that works.".into(),
                provider_event_id: format!("inbound_{}", message_id.simple()),
            }
        }
        15 | 16 => Action::ResumeCadence,
        17 => Action::SetDoNotCall(rng.below(2) == 0),
        18 => Action::Unsubscribe {
            source: "unsubscribe link".into(),
        },
        _ => Action::Update {
            name: contact.name.clone(),
            email: Some(format!("c{}@example.de", rng.below(1000))),
            phone: contact.phone.clone(),
            address: (rng.below(3) > 0).then(|| address("Kastanienallee 12")),
        },
    };
    let _ = sim.try_run(db, at, action).await;
}

/// Contacts of `tenant` with interleaved histories of `steps` commands each.
async fn histories(db: &TestDb, tenant: TenantId, contacts: usize, steps: usize, seed: u64) {
    let mut rng = Rng(seed);
    let property = Uuid::now_v7();
    let mut sims = Vec::new();
    for n in 0..contacts {
        let mut sim = Sim::new(tenant);
        sim.create(db, at(n as i64), &format!("Contact {n}")).await;
        sims.push(sim);
    }
    for s in 0..steps {
        for (n, sim) in sims.iter_mut().enumerate() {
            // Every 5 hours and a bit: some sends fall into quiet hours.
            let at = at(60 + (s as i64) * 300 + n as i64 * 7);
            step(db, sim, &mut rng, at, property).await;
        }
    }
}

#[tokio::test]
async fn many_contacts_of_two_tenants_give_the_same_rows_in_any_batch_size_and_reconcile_clean() {
    let db = TestDb::new().await;
    let (one, two) = (db.tenant().await, db.tenant().await);
    histories(&db, one, 6, 30, 0x9E37_79B9_7F4A_7C15).await;
    histories(&db, two, 4, 30, 0xD1B5_4A32_D192_ED03).await;
    let projection: Arc<dyn Projection> = Arc::new(Communications);
    let mut live = db.projector(projection.clone(), 1).await;
    catch_up(&mut live).await;

    let per_tenant = |table: &str, tenant: TenantId| {
        format!(
            "SELECT count(*) FROM rm_communications.{table} WHERE tenant_id = '{}'",
            tenant.as_uuid()
        )
    };
    assert_eq!(db.count(&per_tenant("contacts", one)).await, 6);
    assert_eq!(db.count(&per_tenant("contacts", two)).await, 4);
    assert_eq!(db.count(&per_tenant("compliance", one)).await, 24);
    assert_eq!(db.count(&per_tenant("compliance", two)).await, 16);
    assert!(db.count(&per_tenant("messages", one)).await > 30);
    assert!(db.count(&per_tenant("messages", two)).await > 20);
    for kind in ["queued", "refused", "received", "bounced"] {
        let n = db
            .count(&format!(
                "SELECT count(*) FROM rm_communications.messages WHERE status = '{kind}'"
            ))
            .await;
        assert!(n > 0, "the histories have {kind} messages");
    }
    assert!(
        db.count("SELECT count(*) FROM rm_communications.suppressions")
            .await
            > 0
    );
    // Every row belongs to its contact's tenant.
    for table in ["compliance", "suppressions", "messages", "conversations"] {
        let strays = db
            .count(&format!(
                "SELECT count(*) FROM rm_communications.{table} t \
                 JOIN rm_communications.contacts c USING (contact_id) WHERE t.tenant_id <> c.tenant_id"
            ))
            .await;
        assert_eq!(strays, 0, "{table}");
    }
    // The counts on contacts and conversations agree with the messages.
    let mismatched = db
        .count(
            "SELECT count(*) FROM rm_communications.contacts c WHERE (c.messages_out, c.messages_refused, c.messages_in) <> \
             (SELECT count(*) FILTER (WHERE direction = 'outbound' AND status <> 'refused'), \
                     count(*) FILTER (WHERE status = 'refused'), count(*) FILTER (WHERE direction = 'inbound') \
              FROM rm_communications.messages m WHERE m.contact_id = c.contact_id)",
        )
        .await;
    assert_eq!(mismatched, 0);
    let mismatched = db
        .count(
            "SELECT count(*) FROM rm_communications.conversations c WHERE c.messages_out + c.messages_refused + c.messages_in <> \
             (SELECT count(*) FROM rm_communications.messages m \
              WHERE m.contact_id = c.contact_id AND m.conversation_id = c.conversation_id)",
        )
        .await;
    assert_eq!(mismatched, 0);
    // Conversations show their contact's pause.
    let mismatched = db
        .count(
            "SELECT count(*) FROM rm_communications.conversations v JOIN rm_communications.contacts c USING (contact_id) \
             WHERE v.paused_since IS DISTINCT FROM c.paused_since \
                OR v.status <> CASE WHEN c.paused_after_reply THEN 'paused' ELSE 'open' END",
        )
        .await;
    assert_eq!(mismatched, 0);

    assert_reconciles_clean(&db, projection.clone(), 1000).await;
    let incremental = schema_rows(&db, "rm_communications").await;
    for batch in [1000, 7] {
        rebuild::rebuild(&db.pool, &db.reader, projection.clone(), batch, &mut |_| {})
            .await
            .expect("rebuild");
        assert_same_rows(&incremental, &schema_rows(&db, "rm_communications").await);
    }
}
