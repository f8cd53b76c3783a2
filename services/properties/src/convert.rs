//! Proto messages ↔ properties domain values: requests into the domain,
//! naming the field they reject, and domain values into requests (for
//! callers that build requests from domain values, such as the seed).

use deedlog_properties_domain::model::{
    normalise_tag, Address, Attributes, PropertyKind, Provenance, Source, Sourced,
};
use deedlog_properties_domain::ListingStatus;
use deedlog_proto::properties::v1 as pb;
use deedlog_service::Error;

pub fn address(field: &str, address: Option<&pb::Address>) -> Result<Address, Error> {
    let a = address.ok_or_else(|| Error::invalid(field, "is required"))?;
    Ok(Address {
        street: a.street.clone(),
        postal_code: a.postal_code.clone(),
        city: a.city.clone(),
        country: a.country.clone(),
        latitude: a.latitude,
        longitude: a.longitude,
    })
}

/// A request's tags, each checked where it stands so that a bad one is
/// named by its path (`tags[2]`); the domain normalises them.
pub fn tags(tags: &[String]) -> Result<Vec<String>, Error> {
    for (i, tag) in tags.iter().enumerate() {
        normalise_tag(tag).map_err(|e| match deedlog_service::executor::refusal(&e) {
            Error::InvalidArgument { reason, .. } => Error::invalid(format!("tags[{i}]"), reason),
            other => other,
        })?;
    }
    Ok(tags.to_vec())
}

deedlog_service::proto_enum! {
    PropertyKind <=> PropertyKind { House, Apartment, MultiFamily, Land, Commercial }
    from: kind,
    field: "kind",
    missing: "is required: house, apartment, multi_family, land or commercial";
    to: kind_to_proto
}

deedlog_service::proto_enum! {
    ListingStatus <=> ListingStatus { Draft, Active, Reserved, UnderContract, Sold, Withdrawn }
    from: status,
    field: "status",
    missing: "is required";
    to: status_to_proto
}

pub fn provenance(field: &str, p: Option<&pb::Provenance>) -> Result<Provenance, Error> {
    let p = p.ok_or_else(|| Error::invalid(field, "is required"))?;
    let source = match p.source() {
        pb::SourceKind::Manual => Source::Manual,
        pb::SourceKind::Import => Source::Import,
        pb::SourceKind::Provider => Source::Provider(p.provider.clone()),
        pb::SourceKind::Unspecified => {
            return Err(Error::invalid(
                format!("{field}.source"),
                "is required: manual, import or provider",
            ))
        }
    };
    let confidence_pct = u8::try_from(p.confidence_pct)
        .ok()
        .filter(|c| *c <= 100)
        .ok_or_else(|| Error::invalid(format!("{field}.confidence_pct"), "must be 0 to 100"))?;
    Ok(Provenance {
        source,
        confidence_pct,
    })
}

/// The proto form of a provenance.
pub fn provenance_to_proto(p: &Provenance) -> pb::Provenance {
    let (source, provider) = match &p.source {
        Source::Manual => (pb::SourceKind::Manual, String::new()),
        Source::Import => (pb::SourceKind::Import, String::new()),
        Source::Provider(name) => (pb::SourceKind::Provider, name.clone()),
    };
    pb::Provenance {
        source: source.into(),
        provider,
        confidence_pct: p.confidence_pct.into(),
    }
}

pub fn attributes(a: Option<&pb::Attributes>) -> Result<Attributes, Error> {
    let Some(a) = a else {
        return Ok(Attributes::default());
    };
    Ok(Attributes {
        rooms: sourced("attributes.rooms", a.rooms.as_ref())?,
        bedrooms: sourced("attributes.bedrooms", a.bedrooms.as_ref())?,
        bathrooms: sourced("attributes.bathrooms", a.bathrooms.as_ref())?,
        living_area_m2: sourced("attributes.living_area_m2", a.living_area_m2.as_ref())?,
        plot_area_m2: sourced("attributes.plot_area_m2", a.plot_area_m2.as_ref())?,
        year_built: sourced("attributes.year_built", a.year_built.as_ref())?,
    })
}

fn sourced<T: TryFrom<i64>>(
    field: &str,
    value: Option<&pb::SourcedInt>,
) -> Result<Option<Sourced<T>>, Error> {
    value
        .map(|v| {
            let value = T::try_from(v.value).map_err(|_| {
                Error::invalid(
                    format!("{field}.value"),
                    format!("{} is out of range", v.value),
                )
            })?;
            Ok(Sourced {
                value,
                provenance: provenance(&format!("{field}.provenance"), v.provenance.as_ref())?,
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proto_kind_and_status_round_trips() {
        let kinds = (1..).map_while(|n| pb::PropertyKind::try_from(n).ok());
        for proto in kinds {
            assert_eq!(kind(proto).map(kind_to_proto), Ok(proto));
        }
        let statuses = (1..).map_while(|n| pb::ListingStatus::try_from(n).ok());
        for proto in statuses {
            assert_eq!(status(proto).map(status_to_proto), Ok(proto));
        }
    }

    #[test]
    fn every_source_round_trips() {
        for source in [
            Source::Manual,
            Source::Import,
            Source::Provider("gutachter".to_owned()),
        ] {
            let p = Provenance {
                source,
                confidence_pct: 80,
            };
            let proto = provenance_to_proto(&p);
            assert_eq!(provenance("source", Some(&proto)), Ok(p));
        }
    }
}
