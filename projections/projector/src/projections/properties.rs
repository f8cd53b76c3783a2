//! The properties read model: list and detail rows, asking-price history
//! and valuations (schema in `migrations/projections/properties.sql`).

use super::applied::unapplied;
use super::decode::{big, int, name_of, stream_ids, Decoded};
use crate::projection::ApplyError;
use crate::rows::{self, keyed};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::Money;
use deedlog_properties_domain::model::{Attributes, Provenance, Source, Sourced};
use deedlog_properties_domain::Event;
use deedlog_read_model::properties::{PriceChangeRow, PropertyRow, ValuationRow};
use deedlog_read_model::Int64;
use serde_json::{Map, Value};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

projection!(Properties, "properties", stream PROPERTY of Event, apply);

async fn apply(
    conn: &mut PgConnection,
    decoded: &Decoded<'_, Event>,
    _keys: crate::projection::Keys<'_>,
) -> Result<(), ApplyError> {
    let ids = stream_ids(decoded);
    let loaded = rows::load(conn, "properties", "property_id", &ids).await?;
    let mut rows: HashMap<_, _> = keyed(loaded, |row: &PropertyRow| row.property_id);
    let mut changes = Changes::default();
    for (recorded, event) in decoded {
        apply_one(&mut rows, &mut changes, recorded, event)?;
    }
    let written: Vec<PropertyRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    rows::replace(conn, "properties", "property_id", &ids, &written).await?;
    rows::insert(conn, "price_history", &changes.prices).await?;
    rows::insert(conn, "valuations", &changes.valuations).await?;
    Ok(())
}

#[derive(Default)]
struct Changes {
    prices: Vec<PriceChangeRow>,
    valuations: Vec<ValuationRow>,
}

fn apply_one(
    rows: &mut HashMap<Uuid, PropertyRow>,
    changes: &mut Changes,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position = big(recorded.position);
    if let Event::PropertyCreated {
        address,
        kind,
        attributes,
        asking_price,
        agent,
        owner,
        tags,
    } = event
    {
        if rows.contains_key(&id) {
            return Err(ApplyError::event(
                recorded,
                "the property already has a row",
            ));
        }
        let mut row = PropertyRow {
            property_id: id,
            tenant_id: recorded.tenant_id.as_uuid(),
            street: address.street.clone(),
            postal_code: address.postal_code.clone(),
            city: address.city.clone(),
            country: address.country.clone(),
            latitude: address.latitude,
            longitude: address.longitude,
            kind: name_of(kind),
            rooms: None,
            bedrooms: None,
            bathrooms: None,
            living_area_m2: None,
            plot_area_m2: None,
            year_built: None,
            attribute_sources: Value::Object(Map::new()),
            asking_price_minor: asking_price.map(|m| Int64(m.amount_minor)),
            currency: asking_price.map(|m| m.currency.code().to_owned()),
            listing_status: "draft".into(),
            agent_id: agent.map(|a| a.as_uuid()),
            owner_contact_id: *owner,
            tags: tags.iter().cloned().collect(),
            archived: false,
            latest_valuation_minor: None,
            latest_valuation_currency: None,
            version: Int64(0),
            last_position: Int64(0),
            created_at: recorded.occurred_at,
            updated_at: recorded.occurred_at,
        };
        set_attributes(&mut row, attributes).map_err(|e| ApplyError::event(recorded, e))?;
        if let Some(price) = asking_price {
            changes
                .prices
                .push(price_change(&row, recorded, None, price));
        }
        stamp(&mut row, recorded);
        rows.insert(id, row);
        return Ok(());
    }
    let missing = "no row for this property (its creation was not applied)";
    let Some(row) = unapplied(rows, recorded, missing, |row| row.last_position)? else {
        return Ok(());
    };
    match event {
        Event::PropertyCreated { .. } => {}
        Event::AddressChanged { address } => {
            row.street = address.street.clone();
            row.postal_code = address.postal_code.clone();
            row.city = address.city.clone();
            row.country = address.country.clone();
            row.latitude = address.latitude;
            row.longitude = address.longitude;
        }
        Event::AttributesChanged { attributes } => {
            set_attributes(row, attributes).map_err(|e| ApplyError::event(recorded, e))?
        }
        Event::AskingPriceChanged { from, to } => {
            row.asking_price_minor = Some(Int64(to.amount_minor));
            row.currency = Some(to.currency.code().to_owned());
            changes
                .prices
                .push(price_change(row, recorded, from.as_ref(), to));
        }
        Event::ValuationRecorded {
            value,
            source,
            valued_on,
        } => {
            row.latest_valuation_minor = Some(Int64(value.amount_minor));
            row.latest_valuation_currency = Some(value.currency.code().to_owned());
            let (source_kind, source_name) = match source {
                Source::Manual => ("manual", None),
                Source::Import => ("import", None),
                Source::Provider(name) => ("provider", Some(name.clone())),
            };
            changes.valuations.push(ValuationRow {
                tenant_id: row.tenant_id,
                property_id: id,
                position,
                valued_on: *valued_on,
                value_minor: Int64(value.amount_minor),
                currency: value.currency.code().to_owned(),
                source_kind: source_kind.into(),
                source_name,
                recorded_at: recorded.occurred_at,
            });
        }
        Event::ListingStatusChanged { to, .. } => row.listing_status = name_of(to),
        Event::AgentAssigned { to, .. } => row.agent_id = Some(to.as_uuid()),
        Event::OwnerSet { owner } => row.owner_contact_id = *owner,
        Event::TagAdded { tag } => {
            if !row.tags.contains(tag) {
                row.tags.push(tag.clone());
                row.tags.sort();
            }
        }
        Event::TagRemoved { tag } => row.tags.retain(|t| t != tag),
        Event::PropertyArchived {} => row.archived = true,
        Event::PropertyRestored {} => row.archived = false,
    }
    stamp(row, recorded);
    Ok(())
}

fn stamp(row: &mut PropertyRow, recorded: &RecordedEvent) {
    row.version = big(recorded.version);
    row.last_position = big(recorded.position);
    row.updated_at = recorded.occurred_at;
}

fn set_attributes(row: &mut PropertyRow, attributes: &Attributes) -> Result<(), String> {
    fn value<T>(column: &'static str, s: &Option<Sourced<T>>) -> Result<Option<i32>, String>
    where
        T: TryInto<i32> + Copy + std::fmt::Display,
    {
        s.as_ref().map(|s| int(column, s.value)).transpose()
    }
    fn provenance<T>(s: &Option<Sourced<T>>) -> Option<&Provenance> {
        s.as_ref().map(|s| &s.provenance)
    }
    row.rooms = value("rooms", &attributes.rooms)?;
    row.bedrooms = value("bedrooms", &attributes.bedrooms)?;
    row.bathrooms = value("bathrooms", &attributes.bathrooms)?;
    row.living_area_m2 = value("living_area_m2", &attributes.living_area_m2)?;
    row.plot_area_m2 = value("plot_area_m2", &attributes.plot_area_m2)?;
    row.year_built = value("year_built", &attributes.year_built)?;
    let sources = [
        ("rooms", provenance(&attributes.rooms)),
        ("bedrooms", provenance(&attributes.bedrooms)),
        ("bathrooms", provenance(&attributes.bathrooms)),
        ("living_area_m2", provenance(&attributes.living_area_m2)),
        ("plot_area_m2", provenance(&attributes.plot_area_m2)),
        ("year_built", provenance(&attributes.year_built)),
    ];
    row.attribute_sources = sources
        .into_iter()
        .filter_map(|(name, p)| {
            p.and_then(|p| serde_json::to_value(p).ok())
                .map(|p| (name.to_owned(), p))
        })
        .collect::<Map<String, Value>>()
        .into();
    Ok(())
}

/// The price-history row of `row`'s asking price set to `to` (from `from`,
/// none for the first price) by `recorded`.
fn price_change(
    row: &PropertyRow,
    recorded: &RecordedEvent,
    from: Option<&Money>,
    to: &Money,
) -> PriceChangeRow {
    PriceChangeRow {
        tenant_id: row.tenant_id,
        property_id: row.property_id,
        position: big(recorded.position),
        changed_at: recorded.occurred_at,
        changed_by: recorded.actor.clone(),
        from_minor: from.map(|m| Int64(m.amount_minor)),
        to_minor: Int64(to.amount_minor),
        currency: to.currency.code().to_owned(),
    }
}
