//! The GraphQL enum of each concept of the domain (a property's kind, a
//! listing status, a deal's stage, a channel, a role, …): one per concept,
//! used by the mutations' inputs and the queries' filters alike, each with
//! its proto form. The contract test (`schema::contract`) checks their
//! values against the protos' enums.

use async_graphql::resolver_utils::EnumType;
use async_graphql::Enum;
use deedlog_proto::communications::v1 as communications;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as properties;
use deedlog_proto::tenancy::v1 as tenancy;

/// The name a read model stores for a value: its GraphQL name in lower case
/// (UNDER_CONTRACT is stored `under_contract`), as the projections store the
/// domain's snake_case names.
pub fn stored_name<E: EnumType>(value: E) -> String {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map(|item| item.name.to_ascii_lowercase())
        .expect("every value of an enum is one of its items")
}

// The properties context.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PropertyKind {
    House,
    Apartment,
    MultiFamily,
    Land,
    Commercial,
}

impl From<PropertyKind> for properties::PropertyKind {
    fn from(kind: PropertyKind) -> Self {
        match kind {
            PropertyKind::House => Self::House,
            PropertyKind::Apartment => Self::Apartment,
            PropertyKind::MultiFamily => Self::MultiFamily,
            PropertyKind::Land => Self::Land,
            PropertyKind::Commercial => Self::Commercial,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ListingStatus {
    Draft,
    Active,
    Reserved,
    UnderContract,
    Sold,
    Withdrawn,
}

impl From<ListingStatus> for properties::ListingStatus {
    fn from(status: ListingStatus) -> Self {
        match status {
            ListingStatus::Draft => Self::Draft,
            ListingStatus::Active => Self::Active,
            ListingStatus::Reserved => Self::Reserved,
            ListingStatus::UnderContract => Self::UnderContract,
            ListingStatus::Sold => Self::Sold,
            ListingStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SourceKind {
    Manual,
    Import,
    Provider,
}

impl From<SourceKind> for properties::SourceKind {
    fn from(source: SourceKind) -> Self {
        match source {
            SourceKind::Manual => Self::Manual,
            SourceKind::Import => Self::Import,
            SourceKind::Provider => Self::Provider,
        }
    }
}

// The deals context.

/// A step of the pipeline; the two closed ones are reached only through
/// `winDeal` and `loseDeal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DealStage {
    Lead,
    Qualified,
    Viewing,
    Offer,
    Negotiation,
    UnderContract,
    ClosedWon,
    ClosedLost,
}

impl From<DealStage> for deals::Stage {
    fn from(stage: DealStage) -> Self {
        match stage {
            DealStage::Lead => Self::Lead,
            DealStage::Qualified => Self::Qualified,
            DealStage::Viewing => Self::Viewing,
            DealStage::Offer => Self::Offer,
            DealStage::Negotiation => Self::Negotiation,
            DealStage::UnderContract => Self::UnderContract,
            DealStage::ClosedWon => Self::ClosedWon,
            DealStage::ClosedLost => Self::ClosedLost,
        }
    }
}

// The communications context.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Channel {
    Email,
    Sms,
    Call,
    Letter,
}

impl From<Channel> for communications::Channel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Email => Self::Email,
            Channel::Sms => Self::Sms,
            Channel::Call => Self::Call,
            Channel::Letter => Self::Letter,
        }
    }
}

/// Why a contact may be messaged on a channel (GDPR Art. 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LawfulBasis {
    Consent,
    Contract,
    LegitimateInterest,
    LegalObligation,
}

impl From<LawfulBasis> for communications::LawfulBasis {
    fn from(basis: LawfulBasis) -> Self {
        match basis {
            LawfulBasis::Consent => Self::Consent,
            LawfulBasis::Contract => Self::Contract,
            LawfulBasis::LegitimateInterest => Self::LegitimateInterest,
            LawfulBasis::LegalObligation => Self::LegalObligation,
        }
    }
}

/// What became of a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DeliveryStatus {
    Delivered,
    Opened,
    SoftBounced,
    HardBounced,
}

impl From<DeliveryStatus> for communications::DeliveryStatus {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Opened => Self::Opened,
            DeliveryStatus::SoftBounced => Self::SoftBounced,
            DeliveryStatus::HardBounced => Self::HardBounced,
        }
    }
}

// The tenancy context.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Viewer,
    Auditor,
}

impl From<Role> for tenancy::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Manager => Self::Manager,
            Role::Agent => Self::Agent,
            Role::Viewer => Self::Viewer,
            Role::Auditor => Self::Auditor,
        }
    }
}

/// A part of deedlog a tenant can switch on or off (named so as not to
/// clash with the `Module` the tenant query returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TenantModule {
    Properties,
    Deals,
    Communications,
    Analytics,
}

impl From<TenantModule> for tenancy::Module {
    fn from(module: TenantModule) -> Self {
        match module {
            TenantModule::Properties => Self::Properties,
            TenantModule::Deals => Self::Deals,
            TenantModule::Communications => Self::Communications,
            TenantModule::Analytics => Self::Analytics,
        }
    }
}

// Notifications (a read model's own concept: no proto has it).

/// What a notification tells its addressee (`docs/read-models.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationKind {
    /// A deal was opened for the viewer or reassigned to them.
    DealAssigned,
    /// The viewer's deal was reassigned to someone else.
    DealReassignedAway,
    /// A property was created with the viewer as its agent, or assigned to them.
    PropertyAssigned,
    /// The viewer's property was assigned to someone else.
    PropertyReassignedAway,
    /// A contact replied on a conversation about the viewer's deal or property.
    ReplyReceived,
    /// The viewer's deal moved stage, was won, lost or reopened.
    DealStageChanged,
    /// The asking price of the viewer's property changed.
    AskingPriceChanged,
}

impl NotificationKind {
    /// The kind a read-model row stores as `stored`.
    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::items()
            .iter()
            .map(|item| item.value)
            .find(|kind| stored_name(*kind) == stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_read_model::properties::{KINDS, LISTING_STATUSES};

    fn stored_names<E: EnumType>() -> Vec<String> {
        E::items()
            .iter()
            .map(|item| stored_name(item.value))
            .collect()
    }

    #[test]
    fn the_filters_send_the_names_the_read_model_stores() {
        assert_eq!(stored_names::<ListingStatus>(), LISTING_STATUSES);
        assert_eq!(stored_names::<PropertyKind>(), KINDS);
    }

    #[test]
    fn notification_kinds_are_the_ones_the_projector_stores() {
        use deedlog_read_model::notifications::kind;
        assert_eq!(stored_names::<NotificationKind>(), kind::ALL);
        for stored in kind::ALL {
            let kind = NotificationKind::from_stored(stored).expect("known");
            assert_eq!(stored_name(kind), stored);
        }
        assert_eq!(NotificationKind::from_stored("Deal_Assigned"), None);
    }
}
