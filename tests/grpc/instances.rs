//! Two instances of every service against one log: correctness comes from
//! the log's concurrency control, not from there being one instance, even
//! though each instance keeps the last state of the records it touched.

use crate::assert_status;
use deedlog_proto::properties::v1 as pb;
use deedlog_tests::clients::command;
use deedlog_tests::fixtures::{archive, restore};
use deedlog_tests::{Clients, TestCluster};
use tonic::Code;

#[tokio::test]
async fn an_instance_with_a_stale_record_never_answers_from_it() {
    let a = TestCluster::start().await;
    let b = a.second_instance().await;
    let mut ca = Clients::connect(&a).await;
    let mut cb = Clients::connect(&b).await;
    let admin = ca.register("berg").await;
    let id = ca.listing(&admin).await;
    let tag = |t: &str| {
        admin.request(pb::TagRequest {
            command: command(),
            property_id: id.clone(),
            tag: t.into(),
        })
    };
    // b now remembers the property at version 2, not archived.
    assert_eq!(
        cb.properties
            .add_tag(tag("garden"))
            .await
            .expect("tag on b")
            .into_inner()
            .version,
        2
    );
    ca.properties
        .archive_property(admin.request(archive(&id)))
        .await
        .expect("archive on a");
    // b's remembered state says "not archived"; the log says otherwise.
    assert_status(
        cb.properties.add_tag(tag("pool")).await,
        Code::FailedPrecondition,
        "archived",
    );
    ca.properties
        .restore_property(admin.request(restore(&id)))
        .await
        .expect("restore on a");
    // Now b remembers "archived"; it must not refuse from that memory.
    let tagged = cb
        .properties
        .add_tag(tag("pool"))
        .await
        .expect("tag on b after restore")
        .into_inner();
    assert_eq!(tagged.version, 5);
    b.stop().await;
}

#[tokio::test]
async fn fifty_parallel_changes_to_one_record_over_two_instances_all_land() {
    // Default settings: no extra retries. Commands on one record queue within
    // an instance; the two instances race, and back off with jitter.
    let a = TestCluster::start().await;
    let b = a.second_instance().await;
    let mut ca = Clients::connect(&a).await;
    let cb = Clients::connect(&b).await;
    let admin = ca.register("berg").await;
    let id = ca.listing(&admin).await;
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..50 {
        let mut client = if n % 2 == 0 {
            ca.properties.clone()
        } else {
            cb.properties.clone()
        };
        let request = admin.request(pb::ChangeAskingPriceRequest {
            command: command(),
            property_id: id.clone(),
            asking_price: Some(deedlog_proto::common::v1::Money {
                amount_minor: 40_000_000 + n,
                currency: "EUR".into(),
            }),
        });
        calls.spawn(async move { client.change_asking_price(request).await });
    }
    let mut versions = vec![];
    while let Some(done) = calls.join_next().await {
        let reply = done.expect("join").expect("every change lands");
        versions.push(reply.into_inner().version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=51).collect::<Vec<u64>>());
}
