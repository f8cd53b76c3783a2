//! Refusals (FAILED_PRECONDITION) carry a `google.rpc.ErrorInfo` with a
//! stable reason and its particulars, so a program can act on them
//! without parsing text (properties' listing moves and conflicts are
//! checked in `properties`); a refused message says where its refusal is
//! on record.

use crate::{assert_status, error_info};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_tests::clients::{command, mia_berg};
use deedlog_tests::fixtures::email;
use deedlog_tests::{start_with_tenant, LogCounts};
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn a_deal_refusal_names_its_reason() {
    let (_cluster, mut c, admin) = start_with_tenant("berg").await;
    let deal = c.new_deal(&admin).await;
    let deal_id = c.open_deal(&admin, deal).await;
    let status = assert_status(
        c.deals
            .reopen_deal(admin.request(deals::ReopenDealRequest {
                command: command(),
                deal_id,
            }))
            .await,
        Code::FailedPrecondition,
        "only a closed deal",
    );
    assert_eq!(error_info(&status).0, "DEAL_NOT_CLOSED");
}

#[tokio::test]
async fn a_refused_message_says_why_and_where_its_refusal_is_on_record() {
    let (cluster, mut c, admin) = start_with_tenant("berg").await;
    let contact = c.contact_with(&admin, mia_berg()).await;
    let message_id = Uuid::now_v7();
    let send = comms::SendMessageRequest {
        message_id: message_id.to_string(),
        ..email(&contact, "Lindenstraße 5", "The viewing is on Friday.")
    };
    let status = assert_status(
        c.communications
            .send_message(admin.request(send.clone()))
            .await,
        Code::FailedPrecondition,
        "consent",
    );
    let (reason, details) = error_info(&status);
    assert_eq!(reason, "MESSAGE_REFUSED");
    assert_eq!(details["reasons"], "no_consent");
    assert_eq!(details["messageId"], message_id.to_string());
    assert_eq!(details["conversationId"], message_id.to_string());
    assert_eq!(details["recordId"], contact);
    assert_eq!(details["duplicate"], "false");
    let position: u64 = details["position"].parse().expect("a position");
    let (event_type, stream) = LogCounts::event_at(&cluster, position).await;
    assert_eq!(event_type, "MessageRefused");
    assert_eq!(stream.to_string(), contact);

    // The same command again is the same refusal, not a second one.
    let again = c
        .communications
        .send_message(admin.request(send))
        .await
        .expect_err("still refused");
    let (_, repeated) = error_info(&again);
    assert_eq!(repeated["position"], details["position"]);
    assert_eq!(repeated["duplicate"], "true");
}
