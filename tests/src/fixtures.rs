//! Requests and values that many tests send: one definition each, so a
//! field added to a message is filled in one place.

use crate::clients::command;
use deedlog_proto::common::v1::Money;
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use deedlog_proto::tenancy::v1 as tenancy;
use uuid::Uuid;

/// A string that is no UUID, for refusals of malformed ids.
pub const NOT_A_UUID: &str = "not-a-uuid";

/// A fresh UUID as a string.
pub fn random_id() -> String {
    Uuid::now_v7().to_string()
}

/// `minor` units of `currency`.
pub fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.into(),
    })
}

/// `minor` euro cents.
pub fn eur(minor: i64) -> Option<Money> {
    money(minor, "EUR")
}

/// `minor` US cents.
pub fn usd(minor: i64) -> Option<Money> {
    money(minor, "USD")
}

/// Lindenstraße 5, 10969 Berlin, without coordinates.
pub fn lindenstrasse() -> props::Address {
    props::Address {
        street: "Lindenstraße 5".into(),
        postal_code: "10969".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        latitude: None,
        longitude: None,
    }
}

/// An apartment at Lindenstraße 5 asking 450,000 EUR.
pub fn apartment() -> props::CreatePropertyRequest {
    props::CreatePropertyRequest {
        command: command(),
        address: Some(lindenstrasse()),
        kind: props::PropertyKind::Apartment.into(),
        asking_price: eur(45_000_000),
        ..Default::default()
    }
}

/// The apartment with coordinates and a "balcony" tag, as a listing has it.
pub fn listed_apartment() -> props::CreatePropertyRequest {
    props::CreatePropertyRequest {
        address: Some(props::Address {
            latitude: Some(52.5),
            longitude: Some(13.4),
            ..lindenstrasse()
        }),
        tags: vec!["balcony".into()],
        ..apartment()
    }
}

/// Clara Voss, reachable by email and phone.
pub fn clara_voss() -> comms::ContactDetails {
    comms::ContactDetails {
        name: "Clara Voss".into(),
        email: "clara@example.com".into(),
        phone: "+4930123456".into(),
        address: None,
    }
}

/// A request creating a contact with `details` and a server-chosen id.
pub fn new_contact(details: comms::ContactDetails) -> comms::CreateContactRequest {
    comms::CreateContactRequest {
        command: command(),
        contact_id: String::new(),
        details: Some(details),
    }
}

/// A request granting consent on `channel` of `contact`, from a web form.
pub fn consent(contact: &str, channel: comms::Channel) -> comms::GrantConsentRequest {
    comms::GrantConsentRequest {
        command: command(),
        contact_id: contact.into(),
        channel: channel.into(),
        lawful_basis: comms::LawfulBasis::Consent.into(),
        source: "web form".into(),
    }
}

/// A request suspending `tenant_id`.
pub fn suspend(tenant_id: &str) -> tenancy::SuspendTenantRequest {
    tenancy::SuspendTenantRequest {
        command: command(),
        tenant_id: tenant_id.into(),
    }
}

/// A request reactivating `tenant_id`.
pub fn reactivate(tenant_id: &str) -> tenancy::ReactivateTenantRequest {
    tenancy::ReactivateTenantRequest {
        command: command(),
        tenant_id: tenant_id.into(),
    }
}

/// A request switching `module` on or off.
pub fn set_module(module: tenancy::Module, enabled: bool) -> tenancy::SetModuleRequest {
    tenancy::SetModuleRequest {
        command: command(),
        module: module.into(),
        enabled,
    }
}

/// A request archiving `property`.
pub fn archive(property: &str) -> props::ArchivePropertyRequest {
    props::ArchivePropertyRequest {
        command: command(),
        property_id: property.into(),
    }
}

/// A request restoring the archived `property`.
pub fn restore(property: &str) -> props::RestorePropertyRequest {
    props::RestorePropertyRequest {
        command: command(),
        property_id: property.into(),
    }
}

/// A request moving `deal` to `stage`.
pub fn move_stage(deal: &str, stage: deals::Stage) -> deals::MoveStageRequest {
    deals::MoveStageRequest {
        command: command(),
        deal_id: deal.into(),
        stage: stage.into(),
    }
}

/// A request losing `deal` for `reason`.
pub fn lose(deal: &str, reason: &str) -> deals::LoseDealRequest {
    deals::LoseDealRequest {
        command: command(),
        deal_id: deal.into(),
        reason: reason.into(),
    }
}

/// A request reopening the closed `deal`.
pub fn reopen(deal: &str) -> deals::ReopenDealRequest {
    deals::ReopenDealRequest {
        command: command(),
        deal_id: deal.into(),
    }
}

/// A request resuming the paused cadence of `contact`.
pub fn resume_cadence(contact: &str) -> comms::ResumeCadenceRequest {
    comms::ResumeCadenceRequest {
        command: command(),
        contact_id: contact.into(),
    }
}

/// A request exchanging `refresh_token` for a new pair.
pub fn refresh(refresh_token: &str) -> tenancy::RefreshRequest {
    tenancy::RefreshRequest {
        refresh_token: refresh_token.into(),
    }
}

/// A request sending `contact` an email with `subject` and `body`.
pub fn email(contact: &str, subject: &str, body: &str) -> comms::SendMessageRequest {
    comms::SendMessageRequest {
        command: command(),
        contact_id: contact.into(),
        channel: comms::Channel::Email.into(),
        subject: subject.into(),
        body: body.into(),
        ..Default::default()
    }
}

/// Anna registering the tenant "Berg" (slug `berg`) with a valid password.
pub fn berg_registration() -> tenancy::RegisterTenantRequest {
    tenancy::RegisterTenantRequest {
        command: command(),
        name: "Berg".into(),
        slug: "berg".into(),
        admin_email: "anna@berg.example".into(),
        admin_display_name: "Anna".into(),
        admin_password: crate::clients::PASSWORD.into(),
    }
}

/// A request changing the asking price of `property` to `asking_price`.
pub fn reprice(property: &str, asking_price: Option<Money>) -> props::ChangeAskingPriceRequest {
    props::ChangeAskingPriceRequest {
        command: command(),
        property_id: property.into(),
        asking_price,
    }
}

/// A request forgetting `contact` (right to erasure).
pub fn forget_contact(contact: &str) -> comms::ForgetContactRequest {
    comms::ForgetContactRequest {
        command: command(),
        contact_id: contact.into(),
    }
}

/// A request forgetting the deactivated user `user_id` (right to erasure).
pub fn forget_user(user_id: &str) -> tenancy::ForgetUserRequest {
    tenancy::ForgetUserRequest {
        command: command(),
        user_id: user_id.into(),
    }
}
