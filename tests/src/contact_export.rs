//! The right-of-access export (`contactExport`, `deedlog privacy export`):
//! a contact with a history worth exporting, and the checks both ways of
//! exporting share.

use crate::clients::command;
use crate::fixtures::{apartment, consent, email, eur};
use crate::{Clients, Session, TestCluster};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use serde_json::Value;
use uuid::Uuid;

/// The GraphQL query, with `$c` the contact id.
pub const CONTACT_EXPORT: &str = "query($c: UUID!) { contactExport(contactId: $c) }";

/// What [`subject_with_history`] wrote, to find in the export.
#[derive(Debug, Clone)]
pub struct Subject {
    pub contact_id: String,
    pub message_id: String,
    pub reply_id: String,
    pub property_id: String,
    pub deal_id: String,
}

pub const NAME: &str = "Clara Voss";
pub const EMAIL: &str = "clara@example.com";
pub const PHONE: &str = "+4930123456";
pub const SUBJECT_LINE: &str = "Lindenstraße 5";
pub const BODY: &str = "The viewing is on Friday at 10:00.";
pub const REPLY: &str = "Friday works, see you there.";

/// As `admin`: Clara Voss with an address, email consent from a web form,
/// an email sent to her and her reply, a property she owns and a deal
/// where she is the buyer; waits until every read model has it all.
pub async fn subject_with_history(
    cluster: &TestCluster,
    c: &mut Clients,
    admin: &Session,
) -> Subject {
    let contact_id = c
        .contact_with(
            admin,
            comms::ContactDetails {
                name: NAME.into(),
                email: EMAIL.into(),
                phone: PHONE.into(),
                address: Some(comms::PostalAddress {
                    street: "Oranienstraße 12".into(),
                    postal_code: "10999".into(),
                    city: "Berlin".into(),
                    country: "DE".into(),
                }),
            },
        )
        .await;
    c.communications
        .grant_consent(admin.request(consent(&contact_id, comms::Channel::Email)))
        .await
        .expect("consent");
    let sent = c
        .communications
        .send_message(admin.request(email(&contact_id, SUBJECT_LINE, BODY)))
        .await
        .expect("sent")
        .into_inner();
    let reply_id = Uuid::now_v7().to_string();
    let replied = c
        .communications
        .record_reply(admin.request(comms::RecordReplyRequest {
            command: command(),
            contact_id: contact_id.clone(),
            message_id: reply_id.clone(),
            in_reply_to: sent.message_id.clone(),
            conversation_id: sent.conversation_id.clone(),
            channel: comms::Channel::Email.into(),
            body: REPLY.into(),
            provider_event_id: "evt-reply-1".into(),
        }))
        .await
        .expect("reply")
        .into_inner();
    let property = c
        .create_property(
            admin,
            props::CreatePropertyRequest {
                owner_contact_id: contact_id.clone(),
                ..apartment()
            },
        )
        .await;
    let deal = c
        .deals
        .open_deal(admin.request(deals::OpenDealRequest {
            command: command(),
            property_id: property.record_id.clone(),
            buyer_contact_id: contact_id.clone(),
            offer: eur(40_000_000),
            ..Default::default()
        }))
        .await
        .expect("open deal")
        .into_inner();
    let last = [replied.position, property.position, deal.position]
        .into_iter()
        .max()
        .unwrap_or_default();
    cluster.wait_for_read_models(last).await;
    Subject {
        contact_id,
        message_id: sent.message_id,
        reply_id,
        property_id: property.record_id,
        deal_id: deal.record_id,
    }
}

/// Asserts that `doc` is the export of `subject` of `admin`'s tenant and
/// holds everything [`subject_with_history`] wrote, with its exact texts.
#[track_caller]
pub fn assert_holds_history(doc: &Value, subject: &Subject, admin: &Session) {
    assert_eq!(doc["format"], "deedlog.contact-export/1", "{doc}");
    assert_eq!(doc["tenant_id"], admin.tenant_id.as_str(), "{doc}");
    assert_eq!(doc["contact_id"], subject.contact_id.as_str(), "{doc}");
    assert!(doc["exported_at"].is_string(), "{doc}");

    let contact = &doc["contact"];
    assert_eq!(contact["name"], NAME, "{contact}");
    assert_eq!(contact["email"], EMAIL, "{contact}");
    assert_eq!(contact["phone"], PHONE, "{contact}");
    assert_eq!(
        contact["address"]["street"], "Oranienstraße 12",
        "{contact}"
    );
    assert_eq!(contact["address"]["country"], "DE", "{contact}");

    let consents = doc["consents"].as_array().expect("consents");
    let email = consents
        .iter()
        .find(|c| c["channel"] == "email")
        .expect("an email consent");
    assert_eq!(email["consent"], "granted", "{email}");
    assert_eq!(email["lawful_basis"], "consent", "{email}");
    assert_eq!(email["source"], "web form", "{email}");

    let compliance = &doc["compliance"];
    assert_eq!(compliance["do_not_call"], false, "{compliance}");
    assert_eq!(compliance["unsubscribed"], false, "{compliance}");
    assert_eq!(compliance["hard_bounced_channels"], serde_json::json!([]));
    assert_eq!(compliance["paused_after_reply"], true, "{compliance}");
    assert!(compliance["channels"].is_array(), "{compliance}");
    assert!(compliance["suppressions"].is_array(), "{compliance}");

    let messages = doc["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2, "{doc}");
    let (sent, reply) = (&messages[0], &messages[1]);
    assert_eq!(sent["message_id"], subject.message_id.as_str(), "{sent}");
    assert_eq!(sent["direction"], "outbound", "{sent}");
    assert_eq!(sent["subject"], SUBJECT_LINE, "{sent}");
    assert_eq!(sent["body"], BODY, "{sent}");
    assert_eq!(reply["message_id"], subject.reply_id.as_str(), "{reply}");
    assert_eq!(reply["direction"], "inbound", "{reply}");
    assert_eq!(reply["body"], REPLY, "{reply}");
    assert_eq!(reply["in_reply_to"], subject.message_id.as_str(), "{reply}");
    assert!(sent.get("tenant_id").is_none(), "{sent}");

    let conversations = doc["conversations"].as_array().expect("conversations");
    assert_eq!(conversations.len(), 1, "{doc}");
    assert_eq!(conversations[0]["messages_in"], 1, "{doc}");

    let deals = doc["deals"].as_array().expect("deals");
    assert_eq!(deals.len(), 1, "{doc}");
    assert_eq!(deals[0]["deal_id"], subject.deal_id.as_str());
    assert_eq!(deals[0]["buyer_contact_id"], subject.contact_id.as_str());
    let properties = doc["properties"].as_array().expect("properties");
    assert_eq!(properties.len(), 1, "{doc}");
    assert_eq!(properties[0]["property_id"], subject.property_id.as_str());

    let events = doc["events"].as_array().expect("events");
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "ContactCreated",
            "ConsentGranted",
            "MessageQueued",
            "ReplyReceived"
        ],
        "{doc}"
    );
    let actor = format!("user:{}", admin.user_id);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["stream_id"], subject.contact_id.as_str(), "{event}");
        assert_eq!(event["version"], i + 1, "{event}");
        assert_eq!(event["actor"], actor.as_str(), "{event}");
        assert!(event["position"].as_i64().is_some(), "{event}");
        assert!(event["recorded_at"].is_string(), "{event}");
        assert!(event["payload"].is_object(), "{event}");
    }
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["position"].as_i64() < w[1]["position"].as_i64()),
        "{doc}"
    );
    assert_eq!(contact["version"], events.len(), "{contact}");
    // Sealed personal fields are opened: the texts, never an envelope.
    assert_eq!(events[0]["payload"]["name"], NAME, "{}", events[0]);
    assert_eq!(events[0]["payload"]["email"], EMAIL, "{}", events[0]);
    assert_eq!(events[2]["payload"]["body"], BODY, "{}", events[2]);
    assert_eq!(events[3]["payload"]["body"], REPLY, "{}", events[3]);
    assert!(!doc.to_string().contains("$sealed"), "{doc}");
}

/// Asserts that docs/privacy.md names every key of `doc` (at the top, in
/// each part, and in the objects of each list), event payloads aside.
#[track_caller]
pub fn assert_every_key_documented(doc: &Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/privacy.md");
    let text = std::fs::read_to_string(path).expect("docs/privacy.md");
    let section = text
        .split("## Export format (right of access)")
        .nth(1)
        .expect("the section \"Export format (right of access)\"");
    let mut missing = Vec::new();
    let mut check = |key: &str| {
        if !section.contains(&format!("`{key}`")) {
            missing.push(key.to_owned());
        }
    };
    fn objects(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
        match value {
            Value::Object(o) => vec![o],
            Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        }
    }
    for (key, part) in doc.as_object().expect("an object") {
        check(key);
        for object in objects(part) {
            for (inner, value) in object {
                check(inner);
                // Nested objects of the document's own parts; the rows'
                // JSON columns and event payloads have keys of their own
                // (docs/read-models.md, docs/events.md).
                if !matches!(key.as_str(), "contact" | "compliance") {
                    continue;
                }
                for nested in objects(value) {
                    nested.keys().for_each(|k| check(k));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "docs/privacy.md does not name {missing:?}"
    );
}

/// `doc` without `exported_at`, the one key two exports of the same data
/// may differ in.
pub fn without_time(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(object) = doc.as_object_mut() {
        object.remove("exported_at");
    }
    doc
}
