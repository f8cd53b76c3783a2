//! Proto messages ↔ communications domain values: requests into the
//! domain, naming the field they reject, and domain values into requests
//! (for callers that build requests from domain values, such as the seed);
//! and the tenant's settings → the sending policy.

use chrono_tz::Tz;
use deedlog_communications_domain::{
    Channel, DeliveryStatus, LawfulBasis, PostalAddress, RefusalReason, SendPolicy,
};
use deedlog_proto::communications::v1 as pb;
use deedlog_service::{Error, TenantInfo};

deedlog_service::proto_enum! {
    Channel <=> Channel { Email, Sms, Call, Letter }
    from: channel,
    field: "channel",
    missing: "is required: email, sms, call or letter";
    to: channel_to_proto
}

deedlog_service::proto_enum! {
    LawfulBasis <=> LawfulBasis { Consent, Contract, LegitimateInterest, LegalObligation }
    from: lawful_basis,
    field: "lawful_basis",
    missing: "is required: consent, contract, legitimate_interest or legal_obligation";
    to: lawful_basis_to_proto
}

/// The domain delivery status for a proto one; `detail` is kept for bounces.
pub fn delivery_status(status: pb::DeliveryStatus, detail: &str) -> Result<DeliveryStatus, Error> {
    let bounced = |hard| DeliveryStatus::Bounced {
        hard,
        detail: detail.to_owned(),
    };
    Ok(match status {
        pb::DeliveryStatus::Delivered => DeliveryStatus::Delivered,
        pb::DeliveryStatus::Opened => DeliveryStatus::Opened,
        pb::DeliveryStatus::SoftBounced => bounced(false),
        pb::DeliveryStatus::HardBounced => bounced(true),
        pb::DeliveryStatus::Unspecified => {
            return Err(Error::invalid(
                "status",
                "is required: delivered, opened, soft_bounced or hard_bounced",
            ))
        }
    })
}

/// A provider's report id, which must not be empty.
pub fn provider_event_id(id: &str) -> Result<String, Error> {
    if id.trim().is_empty() {
        return Err(Error::invalid("provider_event_id", "is required"));
    }
    Ok(id.to_owned())
}

/// A text the request may leave empty: None when it is blank.
pub fn optional_text(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

/// The contact's details handed to `make` (the create or update action):
/// name, email, phone and postal address. Blank email or phone and an
/// address with every part blank mean none.
pub fn details<A>(
    details: Option<&pb::ContactDetails>,
    make: impl FnOnce(String, Option<String>, Option<String>, Option<PostalAddress>) -> A,
) -> Result<A, Error> {
    let d = details.ok_or_else(|| Error::invalid("details", "is required"))?;
    let address = d.address.as_ref().and_then(|a| {
        let parts = [&a.street, &a.postal_code, &a.city, &a.country];
        let blank = parts.iter().all(|part| part.trim().is_empty());
        (!blank).then(|| PostalAddress {
            street: a.street.clone(),
            postal_code: a.postal_code.clone(),
            city: a.city.clone(),
            country: a.country.clone(),
        })
    });
    Ok(make(
        d.name.clone(),
        optional_text(&d.email),
        optional_text(&d.phone),
        address,
    ))
}

/// The tenant's sending policy: its time zone (UTC, with a warning, when
/// the stored name is unknown), its cadence and the default quiet hours.
pub fn send_policy(tenant: &TenantInfo) -> SendPolicy {
    let time_zone = tenant.time_zone.parse::<Tz>().unwrap_or_else(|_| {
        tracing::warn!(
            time_zone = %tenant.time_zone,
            "the tenant's time zone is unknown; deciding quiet hours in UTC"
        );
        Tz::UTC
    });
    let defaults = SendPolicy::default_for(time_zone);
    // Tenancy keeps both at least 1; a zero from an older tenant falls back.
    let or_default = |value: u32, default: u32| if value == 0 { default } else { value };
    SendPolicy {
        cadence_limit: or_default(tenant.cadence_limit, defaults.cadence_limit),
        cadence_window_days: or_default(tenant.cadence_window_days, defaults.cadence_window_days),
        ..defaults
    }
}

/// Why compliance refused a message, every reason in words.
pub fn refusal_message(reasons: &[RefusalReason]) -> String {
    let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
    format!("message refused: {}", reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn tenant(time_zone: &str, cadence_limit: u32) -> TenantInfo {
        TenantInfo {
            suspended: false,
            modules: BTreeSet::new(),
            time_zone: time_zone.to_owned(),
            cadence_limit,
            cadence_window_days: 14,
            members: Default::default(),
        }
    }

    #[test]
    fn the_policy_follows_the_tenant_and_falls_back_to_utc() {
        let policy = send_policy(&tenant("Europe/Berlin", 5));
        assert_eq!(policy.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!((policy.cadence_limit, policy.cadence_window_days), (5, 14));
        let policy = send_policy(&tenant("Mars/Olympus", 0));
        assert_eq!(policy.time_zone, Tz::UTC);
        assert_eq!(policy.cadence_limit, SendPolicy::default().cadence_limit);
    }

    #[test]
    fn a_refusal_names_every_reason() {
        let message = refusal_message(&[
            RefusalReason::NoConsent {
                channel: Channel::Sms,
            },
            RefusalReason::DoNotCall,
        ]);
        assert_eq!(
            message,
            "message refused: no consent for sms; the contact is on the do-not-call list"
        );
    }

    #[test]
    fn every_channel_and_lawful_basis_round_trips() {
        for c in Channel::ALL {
            assert_eq!(channel(channel_to_proto(c)), Ok(c));
        }
        for b in LawfulBasis::ALL {
            assert_eq!(lawful_basis(lawful_basis_to_proto(b)), Ok(b));
        }
    }

    #[test]
    fn blank_details_are_absent() {
        let d = pb::ContactDetails {
            name: "Clara".into(),
            email: " ".into(),
            phone: String::new(),
            address: Some(pb::PostalAddress::default()),
        };
        let (email, phone, address) = details(Some(&d), |_, e, p, a| (e, p, a)).expect("details");
        assert_eq!((email, phone, address), (None, None, None));
        assert!(matches!(
            channel(pb::Channel::Unspecified),
            Err(Error::InvalidArgument { field, .. }) if field == "channel"
        ));
    }
}
