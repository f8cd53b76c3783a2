//! Mutations of the properties context, one per command.

use super::command::{date, id_or_empty, rpc, send, CommandInput, CommandResult, MoneyInput};
use crate::schema::enums::{ListingStatus, PropertyKind, SourceKind};
use async_graphql::{Context, InputObject, Object, Result};
use chrono::NaiveDate;
use deedlog_proto::properties::v1 as pb;
use uuid::Uuid;

/// Where a value came from and how sure that source is.
#[derive(Debug, InputObject)]
pub struct ProvenanceInput {
    pub source: SourceKind,
    /// The data provider's name, for PROVIDER.
    pub provider: Option<String>,
    pub confidence_pct: u32,
}

impl From<ProvenanceInput> for pb::Provenance {
    fn from(p: ProvenanceInput) -> Self {
        pb::Provenance {
            source: pb::SourceKind::from(p.source).into(),
            provider: p.provider.unwrap_or_default(),
            confidence_pct: p.confidence_pct,
        }
    }
}

#[derive(Debug, InputObject)]
pub struct AddressInput {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, e.g. DE, in any letter case: stored upper-case
    /// (" de " is stored DE); a name (Deutschland) or a code no country has
    /// (XX) is refused with BAD_USER_INPUT.
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<AddressInput> for pb::Address {
    fn from(a: AddressInput) -> Self {
        pb::Address {
            street: a.street,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
            latitude: a.latitude,
            longitude: a.longitude,
        }
    }
}

/// An attribute value and where it came from.
#[derive(Debug, InputObject)]
pub struct SourcedIntInput {
    pub value: i64,
    pub provenance: ProvenanceInput,
}

#[derive(Debug, Default, InputObject)]
pub struct AttributesInput {
    pub rooms: Option<SourcedIntInput>,
    pub bedrooms: Option<SourcedIntInput>,
    pub bathrooms: Option<SourcedIntInput>,
    pub living_area_m2: Option<SourcedIntInput>,
    pub plot_area_m2: Option<SourcedIntInput>,
    pub year_built: Option<SourcedIntInput>,
}

impl From<AttributesInput> for pb::Attributes {
    fn from(a: AttributesInput) -> Self {
        let sourced = |v: Option<SourcedIntInput>| {
            v.map(|v| pb::SourcedInt {
                value: v.value,
                provenance: Some(v.provenance.into()),
            })
        };
        pb::Attributes {
            rooms: sourced(a.rooms),
            bedrooms: sourced(a.bedrooms),
            bathrooms: sourced(a.bathrooms),
            living_area_m2: sourced(a.living_area_m2),
            plot_area_m2: sourced(a.plot_area_m2),
            year_built: sourced(a.year_built),
        }
    }
}

#[derive(Debug, InputObject)]
pub struct CreatePropertyInput {
    /// The new property's id; generated when absent.
    pub property_id: Option<Uuid>,
    pub address: AddressInput,
    pub kind: PropertyKind,
    pub attributes: Option<AttributesInput>,
    pub asking_price: Option<MoneyInput>,
    /// Defaults to the caller when the caller is an agent.
    pub agent_id: Option<Uuid>,
    pub owner_contact_id: Option<Uuid>,
    #[graphql(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Default)]
pub struct PropertiesMutation;

#[Object]
impl PropertiesMutation {
    async fn create_property(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: CreatePropertyInput,
    ) -> Result<CommandResult> {
        let body = pb::CreatePropertyRequest {
            command: command.options()?,
            property_id: id_or_empty(input.property_id),
            address: Some(input.address.into()),
            kind: pb::PropertyKind::from(input.kind).into(),
            attributes: Some(input.attributes.unwrap_or_default().into()),
            asking_price: input.asking_price.map(Into::into),
            agent_id: id_or_empty(input.agent_id),
            owner_contact_id: id_or_empty(input.owner_contact_id),
            tags: input.tags,
        };
        send(ctx, body, rpc!(properties.create_property)).await
    }

    async fn change_address(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        address: AddressInput,
    ) -> Result<CommandResult> {
        let body = pb::ChangeAddressRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            address: Some(address.into()),
        };
        send(ctx, body, rpc!(properties.change_address)).await
    }

    async fn change_attributes(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        attributes: AttributesInput,
    ) -> Result<CommandResult> {
        let body = pb::ChangeAttributesRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            attributes: Some(attributes.into()),
        };
        send(ctx, body, rpc!(properties.change_attributes)).await
    }

    async fn change_asking_price(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        asking_price: MoneyInput,
    ) -> Result<CommandResult> {
        let body = pb::ChangeAskingPriceRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            asking_price: Some(asking_price.into()),
        };
        send(ctx, body, rpc!(properties.change_asking_price)).await
    }

    async fn record_valuation(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        value: MoneyInput,
        source: ProvenanceInput,
        valued_on: NaiveDate,
    ) -> Result<CommandResult> {
        let body = pb::RecordValuationRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            value: Some(value.into()),
            source: Some(source.into()),
            valued_on: Some(date(valued_on)),
        };
        send(ctx, body, rpc!(properties.record_valuation)).await
    }

    async fn change_listing_status(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        status: ListingStatus,
    ) -> Result<CommandResult> {
        let body = pb::ChangeListingStatusRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            status: pb::ListingStatus::from(status).into(),
        };
        send(ctx, body, rpc!(properties.change_listing_status)).await
    }

    async fn assign_agent(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        agent_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::AssignAgentRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            agent_id: agent_id.to_string(),
        };
        send(ctx, body, rpc!(properties.assign_agent)).await
    }

    /// Sets the owner contact, or clears it when `ownerContactId` is null.
    async fn set_owner(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        owner_contact_id: Option<Uuid>,
    ) -> Result<CommandResult> {
        let body = pb::SetOwnerRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
            owner_contact_id: id_or_empty(owner_contact_id),
        };
        send(ctx, body, rpc!(properties.set_owner)).await
    }

    async fn add_tag(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        tag: String,
    ) -> Result<CommandResult> {
        let body = tag_request(command, property_id, tag)?;
        send(ctx, body, rpc!(properties.add_tag)).await
    }

    async fn remove_tag(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
        tag: String,
    ) -> Result<CommandResult> {
        let body = tag_request(command, property_id, tag)?;
        send(ctx, body, rpc!(properties.remove_tag)).await
    }

    async fn archive_property(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ArchivePropertyRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
        };
        send(ctx, body, rpc!(properties.archive_property)).await
    }

    async fn restore_property(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        property_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::RestorePropertyRequest {
            command: command.options()?,
            property_id: property_id.to_string(),
        };
        send(ctx, body, rpc!(properties.restore_property)).await
    }
}

fn tag_request(command: CommandInput, property_id: Uuid, tag: String) -> Result<pb::TagRequest> {
    Ok(pb::TagRequest {
        command: command.options()?,
        property_id: property_id.to_string(),
        tag,
    })
}
