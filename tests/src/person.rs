//! One person with data found nowhere else: what erasure tests look for
//! afterwards in dumps, topics and read models.

use crate::clients::command;
use crate::fixtures::{consent, email};
use crate::{Clients, Session};
use deedlog_proto::communications::v1 as comms;
use uuid::Uuid;

/// One contact's unique strings (each holds a fresh UUID), to look for in
/// the database, the topic and the read model.
#[derive(Debug)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub strings: Vec<String>,
}

/// A contact with unique name, email, phone and street, an email with a
/// unique subject and body (consent granted first) and a reply with a
/// unique body. Returns the contact and the reply's log position.
pub async fn person(c: &mut Clients, admin: &Session, tag: &str) -> (Person, u64) {
    let unique = Uuid::now_v7().simple().to_string();
    let name = format!("{tag} Name{unique}");
    let mail = format!("{tag}.{unique}@example.com").to_lowercase();
    // The random tail of the id (a v7 id starts with the time, shared by both people).
    let digits: String = unique.bytes().rev().map(|b| (b % 10).to_string()).collect();
    let phone = format!("+4930{}", &digits[..9]);
    let street = format!("{tag}strasse {unique}");
    let subject = format!("{tag} subject {unique}");
    let body = format!("{tag} body {unique}: the viewing is on Friday.");
    let reply = format!("{tag} reply {unique}");
    let id = c
        .contact_with(
            admin,
            comms::ContactDetails {
                name: name.clone(),
                email: mail.clone(),
                phone: phone.clone(),
                address: Some(comms::PostalAddress {
                    street: street.clone(),
                    postal_code: "10999".into(),
                    city: "Berlin".into(),
                    country: "DE".into(),
                }),
            },
        )
        .await;
    c.communications
        .grant_consent(admin.request(consent(&id, comms::Channel::Email)))
        .await
        .expect("consent");
    let sent = c
        .communications
        .send_message(admin.request(email(&id, &subject, &body)))
        .await
        .expect("sent")
        .into_inner();
    let replied = c
        .communications
        .record_reply(admin.request(comms::RecordReplyRequest {
            command: command(),
            contact_id: id.clone(),
            message_id: Uuid::now_v7().to_string(),
            in_reply_to: sent.message_id.clone(),
            conversation_id: sent.conversation_id.clone(),
            channel: comms::Channel::Email.into(),
            body: reply.clone(),
            provider_event_id: format!("evt-{unique}"),
        }))
        .await
        .expect("reply")
        .into_inner();
    let strings = vec![name.clone(), mail, phone, street, subject, body, reply];
    (Person { id, name, strings }, replied.position)
}
