//! The properties read model holds what the events say.

use crate::support::*;
use deedlog_kernel::StreamId;
use deedlog_projector::projections::properties::Properties;
use deedlog_properties_domain::{Event, ListingStatus};
use std::sync::Arc;

#[tokio::test]
async fn a_property_row_price_history_and_valuations_follow_its_events() {
    let db = TestDb::new().await;
    let tenant = db.tenant().await;
    let stream = new_stream();
    let mut price = 45_000_000;
    let mut events = vec![created("Berlin", price)];
    events.extend((0..8).map(|n| change(n, &mut price)));
    events.push(Event::ListingStatusChanged {
        from: ListingStatus::Active,
        to: ListingStatus::Reserved,
    });
    let head = db.append(tenant, stream, &events).await;

    let mut projector = db.projector(Arc::new(Properties), 3).await;
    assert_eq!(catch_up(&mut projector).await, events.len() as u64);
    assert_eq!(projector.position(), head);

    let row: (String, i64, String, Vec<String>, bool, i64, i32, Option<i64>) = of_property(
        &db,
        stream,
        "SELECT city, asking_price_minor, listing_status, tags, archived, version, rooms, latest_valuation_minor \
         FROM rm_properties.properties WHERE property_id = $1",
        "row",
    )
    .await
    .remove(0);
    assert_eq!(row.0, "Berlin");
    assert_eq!(row.1, price, "three price drops of 5,000.00 EUR");
    assert_eq!(row.1, 45_000_000 - 3 * 500_000);
    assert_eq!(row.2, "reserved");
    assert_eq!(
        row.3,
        vec!["balcony".to_owned(), "tag4".to_owned()],
        "tag0 was never added, tag4 was"
    );
    assert!(row.4, "the eighth change archives it");
    assert_eq!(row.5, events.len() as i64);
    assert_eq!(row.6, 3);
    assert_eq!(row.7, Some(price + 1_000_000));
    let prices: Vec<(Option<i64>, i64)> = of_property(
        &db,
        stream,
        "SELECT from_minor, to_minor FROM rm_properties.price_history WHERE property_id = $1 ORDER BY position",
        "prices",
    )
    .await;
    assert_eq!(
        prices,
        vec![
            (None, 45_000_000),
            (Some(45_000_000), 44_500_000),
            (Some(44_500_000), 44_000_000),
            (Some(44_000_000), 43_500_000),
        ]
    );
    // Who changed the price, and when, come from the command's metadata.
    let at = chrono::Utc::now() - chrono::Duration::days(3);
    let at = chrono::DateTime::from_timestamp_micros(at.timestamp_micros()).expect("micros");
    db.append_to(
        tenant,
        stream,
        "property",
        &[Event::AskingPriceChanged {
            from: Some(eur(price)),
            to: eur(price - 1),
        }],
        metadata_by(tenant, "user:0192f0c4-aaaa-7bbb-8ccc-000000000009", at),
    )
    .await;
    catch_up(&mut projector).await;
    let (by, when): (String, chrono::DateTime<chrono::Utc>) = of_property(
        &db,
        stream,
        "SELECT changed_by, changed_at FROM rm_properties.price_history WHERE property_id = $1 \
         ORDER BY position DESC LIMIT 1",
        "last price change",
    )
    .await
    .remove(0);
    assert_eq!(
        (by.as_str(), when),
        ("user:0192f0c4-aaaa-7bbb-8ccc-000000000009", at)
    );
    let (kind, name): (String, Option<String>) = of_property(
        &db,
        stream,
        "SELECT source_kind, source_name FROM rm_properties.valuations WHERE property_id = $1",
        "valuation",
    )
    .await
    .remove(0);
    assert_eq!(
        (kind.as_str(), name.as_deref()),
        ("provider", Some("PriceHubble"))
    );
}

/// The rows `sql` selects for the property of `stream` (its `$1`); `what`
/// names them when the query fails.
async fn of_property<T>(db: &TestDb, stream: StreamId, sql: &str, what: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .bind(stream.as_uuid())
        .fetch_all(&db.pool)
        .await
        .expect(what)
}
