//! The communications service over gRPC: contacts, consent, sending and
//! every refusal recorded, delivery reports and replies pausing the cadence.

use crate::{assert_invalid_field, assert_status};
use deedlog_proto::communications::v1 as pb;
use deedlog_tests::clients::command;
use deedlog_tests::fixtures::{clara_voss, consent, email, new_contact, resume_cadence};
use deedlog_tests::{start_with_tenant, Clients, Session};
use tonic::Code;
use uuid::Uuid;

/// The email these tests send.
fn viewing(contact: &str) -> pb::SendMessageRequest {
    email(
        contact,
        "Lindenstraße 5",
        "The viewing is on Friday at 10:00.",
    )
}

/// Sends `viewing` to contact `id` as `s`.
async fn send_viewing(
    c: &mut Clients,
    s: &Session,
    id: &str,
) -> Result<tonic::Response<pb::SendMessageReply>, tonic::Status> {
    c.communications.send_message(s.request(viewing(id))).await
}

#[tokio::test]
async fn consent_sending_delivery_and_replies() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let id = c.contact_with(&admin, clara_voss()).await;
    // No consent yet: refused, and the refusal is on record (the version moved).
    assert_status(
        send_viewing(&mut c, &admin, &id).await,
        Code::FailedPrecondition,
        "consent",
    );
    c.communications
        .grant_consent(admin.request(consent(&id, pb::Channel::Email)))
        .await
        .expect("consent");
    let sent = send_viewing(&mut c, &admin, &id)
        .await
        .expect("sent")
        .into_inner();
    let reply = sent.reply.expect("reply");
    assert_eq!(reply.version, 4, "created, refused, consent, queued");
    c.communications
        .record_delivery(admin.request(pb::RecordDeliveryRequest {
            command: command(),
            contact_id: id.clone(),
            message_id: sent.message_id.clone(),
            status: pb::DeliveryStatus::Delivered.into(),
            detail: String::new(),
            provider_event_id: "evt-1".into(),
        }))
        .await
        .expect("delivered");
    c.communications
        .record_reply(admin.request(pb::RecordReplyRequest {
            command: command(),
            contact_id: id.clone(),
            message_id: Uuid::now_v7().to_string(),
            in_reply_to: sent.message_id.clone(),
            conversation_id: sent.conversation_id.clone(),
            channel: pb::Channel::Email.into(),
            body: "Friday works.".into(),
            provider_event_id: "evt-2".into(),
        }))
        .await
        .expect("reply");
    assert_status(
        send_viewing(&mut c, &admin, &id).await,
        Code::FailedPrecondition,
        "",
    );
    c.communications
        .resume_cadence(admin.request(resume_cadence(&id)))
        .await
        .expect("resume");
    send_viewing(&mut c, &admin, &id)
        .await
        .expect("sent after resuming");
}

#[tokio::test]
async fn bad_contact_details_name_their_field() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    assert_invalid_field(
        c.communications
            .create_contact(admin.request(new_contact(pb::ContactDetails {
                name: "Clara".into(),
                email: "not-an-email".into(),
                ..Default::default()
            })))
            .await,
        "",
        "details.email",
    );
    let id = c.contact_with(&admin, clara_voss()).await;
    assert_invalid_field(
        c.communications
            .send_message(admin.request(pb::SendMessageRequest {
                channel: 0,
                ..viewing(&id)
            }))
            .await,
        "",
        "channel",
    );
}

#[tokio::test]
async fn the_remaining_contact_commands_work_and_each_refusal_is_named() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let id = c.contact_with(&admin, clara_voss()).await;
    let k = &mut c.communications;
    k.update_contact(admin.request(pb::UpdateContactRequest {
        command: command(),
        contact_id: id.clone(),
        details: Some(pb::ContactDetails {
            name: "Clara Voss-Berg".into(),
            email: "clara@example.org".into(),
            phone: "+4930123456".into(),
            address: None,
        }),
    }))
    .await
    .expect("update");
    for channel in [pb::Channel::Email, pb::Channel::Call] {
        k.grant_consent(admin.request(consent(&id, channel)))
            .await
            .expect("consent");
    }
    k.set_do_not_call(admin.request(pb::SetDoNotCallRequest {
        command: command(),
        contact_id: id.clone(),
        do_not_call: true,
    }))
    .await
    .expect("do not call");
    let call = pb::SendMessageRequest {
        channel: pb::Channel::Call.into(),
        subject: String::new(),
        ..viewing(&id)
    };
    assert_status(
        k.send_message(admin.request(call)).await,
        Code::FailedPrecondition,
        "do-not-call",
    );
    k.unsubscribe(admin.request(pb::UnsubscribeRequest {
        command: command(),
        contact_id: id.clone(),
        source: "list footer".into(),
    }))
    .await
    .expect("unsubscribe");
    assert_status(
        k.send_message(admin.request(viewing(&id))).await,
        Code::FailedPrecondition,
        "unsubscribed",
    );
    k.withdraw_consent(admin.request(pb::WithdrawConsentRequest {
        command: command(),
        contact_id: id.clone(),
        channel: pb::Channel::Email.into(),
        source: "phone call".into(),
    }))
    .await
    .expect("withdraw");
    let refused = assert_status(
        k.send_message(admin.request(viewing(&id))).await,
        Code::FailedPrecondition,
        "",
    );
    assert!(
        refused.message().contains("consent") && refused.message().contains("unsubscribed"),
        "every reason is named: {}",
        refused.message()
    );
}
