//! The properties read model: list and detail rows, asking-price history
//! and valuations (schema in `migrations/projections/properties.sql`).

use super::decode::{big, events_of, name_of, stream_ids};
use crate::projection::{ApplyError, Projection, Table};
use crate::rows;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_properties_domain::model::{Attributes, Provenance, Source, Sourced};
use deedlog_properties_domain::Event;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use deedlog_kernel::stream_type::PROPERTY as STREAM_TYPE;

#[derive(Debug, Clone, Copy)]
pub struct Properties;

/// One row of `properties`; field names are its column names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PropertyRow {
    pub property_id: Uuid,
    pub tenant_id: Uuid,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub kind: String,
    pub rooms: Option<i64>,
    pub bedrooms: Option<i64>,
    pub bathrooms: Option<i64>,
    pub living_area_m2: Option<i64>,
    pub plot_area_m2: Option<i64>,
    pub year_built: Option<i64>,
    pub attribute_sources: Map<String, Value>,
    pub asking_price_minor: Option<i64>,
    pub currency: Option<String>,
    pub listing_status: String,
    pub agent_id: Option<Uuid>,
    pub owner_contact_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub archived: bool,
    pub latest_valuation_minor: Option<i64>,
    pub latest_valuation_currency: Option<String>,
    pub version: i64,
    pub last_position: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One row of `price_history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceChangeRow {
    pub tenant_id: Uuid,
    pub property_id: Uuid,
    pub position: i64,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub from_minor: Option<i64>,
    pub to_minor: i64,
    pub currency: String,
}

/// One row of `valuations`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValuationRow {
    pub tenant_id: Uuid,
    pub property_id: Uuid,
    pub position: i64,
    pub valued_on: NaiveDate,
    pub value_minor: i64,
    pub currency: String,
    pub source_kind: String,
    pub source_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

const TABLES: &[Table] = &[
    Table {
        name: "properties",
        key: &["property_id"],
    },
    Table {
        name: "price_history",
        key: &["property_id", "position"],
    },
    Table {
        name: "valuations",
        key: &["property_id", "position"],
    },
];

#[async_trait]
impl Projection for Properties {
    fn name(&self) -> &'static str {
        "properties"
    }

    fn ddl(&self) -> &'static str {
        include_str!("../../../../migrations/projections/properties.sql")
    }

    fn tables(&self) -> &'static [Table] {
        TABLES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let decoded = events_of::<Event>(events, STREAM_TYPE)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let ids = stream_ids(&decoded);
        let mut rows: HashMap<Uuid, PropertyRow> =
            rows::load::<PropertyRow>(conn, "properties", "property_id", &ids)
                .await?
                .into_iter()
                .map(|row| (row.property_id, row))
                .collect();
        let mut changes = Changes::default();
        for (recorded, event) in &decoded {
            apply_one(&mut rows, &mut changes, recorded, event)?;
        }
        let written: Vec<PropertyRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
        rows::replace(conn, "properties", "property_id", &ids, &written).await?;
        rows::insert(conn, "price_history", &changes.prices).await?;
        rows::insert(conn, "valuations", &changes.valuations).await?;
        Ok(())
    }
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
            attribute_sources: Map::new(),
            asking_price_minor: asking_price.map(|m| m.amount_minor),
            currency: asking_price.map(|m| m.currency.code().to_owned()),
            listing_status: "draft".into(),
            agent_id: agent.map(|a| a.as_uuid()),
            owner_contact_id: *owner,
            tags: tags.iter().cloned().collect(),
            archived: false,
            latest_valuation_minor: None,
            latest_valuation_currency: None,
            version: 0,
            last_position: 0,
            created_at: recorded.occurred_at,
            updated_at: recorded.occurred_at,
        };
        set_attributes(&mut row, attributes);
        if let Some(price) = asking_price {
            changes.prices.push(PriceChangeRow {
                tenant_id: row.tenant_id,
                property_id: id,
                position,
                changed_at: recorded.occurred_at,
                changed_by: recorded.actor.clone(),
                from_minor: None,
                to_minor: price.amount_minor,
                currency: price.currency.code().to_owned(),
            });
        }
        stamp(&mut row, recorded);
        rows.insert(id, row);
        return Ok(());
    }
    let row = rows.get_mut(&id).ok_or_else(|| {
        ApplyError::event(
            recorded,
            "no row for this property (its creation was not applied)",
        )
    })?;
    if row.last_position >= position {
        // Applied before (a replayed dead letter that had gone through).
        return Ok(());
    }
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
        Event::AttributesChanged { attributes } => set_attributes(row, attributes),
        Event::AskingPriceChanged { from, to } => {
            row.asking_price_minor = Some(to.amount_minor);
            row.currency = Some(to.currency.code().to_owned());
            changes.prices.push(PriceChangeRow {
                tenant_id: row.tenant_id,
                property_id: id,
                position,
                changed_at: recorded.occurred_at,
                changed_by: recorded.actor.clone(),
                from_minor: from.map(|m| m.amount_minor),
                to_minor: to.amount_minor,
                currency: to.currency.code().to_owned(),
            });
        }
        Event::ValuationRecorded {
            value,
            source,
            valued_on,
        } => {
            row.latest_valuation_minor = Some(value.amount_minor);
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
                value_minor: value.amount_minor,
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

fn set_attributes(row: &mut PropertyRow, attributes: &Attributes) {
    fn value<T: Copy + Into<i64>>(s: &Option<Sourced<T>>) -> Option<i64> {
        s.as_ref().map(|s| s.value.into())
    }
    fn provenance<T>(s: &Option<Sourced<T>>) -> Option<&Provenance> {
        s.as_ref().map(|s| &s.provenance)
    }
    row.rooms = value(&attributes.rooms);
    row.bedrooms = value(&attributes.bedrooms);
    row.bathrooms = value(&attributes.bathrooms);
    row.living_area_m2 = value(&attributes.living_area_m2);
    row.plot_area_m2 = value(&attributes.plot_area_m2);
    row.year_built = value(&attributes.year_built);
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
        .collect();
}
