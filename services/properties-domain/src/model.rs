//! The values a property is made of, each checked on the way in.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most tags on one property.
pub const MAX_TAGS: usize = 50;
const MAX_TAG_LEN: usize = 40;
const MAX_TEXT_LEN: usize = 200;

/// A postal address, with optional coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper-case, e.g. `DE` (given in any case).
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Address {
    /// Returns the address with its country code normalised (trimmed,
    /// upper-case: `" de "` becomes `DE`, one rule with contacts, see
    /// [`deedlog_kernel::normalise_country`]), or says which part is wrong.
    pub fn normalised(&self) -> Result<Self, Error> {
        let country = deedlog_kernel::normalise_country(&self.country)
            .map_err(|e| Error::invalid("address.country", &e.to_string()))?;
        let address = Self {
            country,
            ..self.clone()
        };
        address.validate()?;
        Ok(address)
    }

    fn validate(&self) -> Result<(), Error> {
        required("address.street", &self.street)?;
        required("address.postal_code", &self.postal_code)?;
        required("address.city", &self.city)?;
        match (self.latitude, self.longitude) {
            (None, None) => Ok(()),
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(Error::invalid(
                        "address.latitude",
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(Error::invalid(
                        "address.longitude",
                        "must be between -180 and 180",
                    ));
                }
                Ok(())
            }
            _ => Err(Error::invalid(
                "address.latitude",
                "latitude and longitude come together or not at all",
            )),
        }
    }
}

fn required(field: &'static str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(Error::invalid(field, "must be at most 200 characters"));
    }
    Ok(())
}

/// The kind of property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    House,
    Apartment,
    MultiFamily,
    Land,
    Commercial,
}

/// Where an attribute value came from, and how sure that source is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub source: Source,
    /// 0 to 100.
    pub confidence_pct: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Source {
    Manual,
    Import,
    Provider(String),
}

/// One attribute value with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub provenance: Provenance,
}

/// The measurable facts of a property; each one optional and sourced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub rooms: Option<Sourced<u16>>,
    pub bedrooms: Option<Sourced<u16>>,
    pub bathrooms: Option<Sourced<u16>>,
    pub living_area_m2: Option<Sourced<u32>>,
    pub plot_area_m2: Option<Sourced<u32>>,
    pub year_built: Option<Sourced<i32>>,
}

impl Attributes {
    /// Checks ranges; `current_year` comes with the command.
    pub fn validate(&self, current_year: i32) -> Result<(), Error> {
        // Each sourced field, with the paths its confidence and provider
        // are named by when refused.
        macro_rules! provenance {
            ($field:ident) => {
                (
                    concat!(
                        "attributes.",
                        stringify!($field),
                        ".provenance.confidence_pct"
                    ),
                    concat!("attributes.", stringify!($field), ".provenance.provider"),
                    self.$field.as_ref().map(|s| &s.provenance),
                )
            };
        }
        let provenances = [
            provenance!(rooms),
            provenance!(bedrooms),
            provenance!(bathrooms),
            provenance!(living_area_m2),
            provenance!(plot_area_m2),
            provenance!(year_built),
        ];
        // Fields are named by their path in the request's `Attributes`.
        for (confidence, provider, provenance) in provenances {
            if let Some(p) = provenance {
                if p.confidence_pct > 100 {
                    return Err(Error::invalid(
                        confidence,
                        "confidence must be between 0 and 100",
                    ));
                }
                if let Source::Provider(name) = &p.source {
                    required(provider, name)?;
                }
            }
        }
        if let (Some(rooms), Some(bedrooms)) = (&self.rooms, &self.bedrooms) {
            if bedrooms.value > rooms.value {
                return Err(Error::invalid(
                    "attributes.bedrooms.value",
                    "cannot exceed the number of rooms",
                ));
            }
        }
        if self.living_area_m2.as_ref().is_some_and(|a| a.value == 0) {
            return Err(Error::invalid(
                "attributes.living_area_m2.value",
                "must be greater than 0",
            ));
        }
        if let Some(year) = &self.year_built {
            if !(1000..=current_year + 5).contains(&year.value) {
                return Err(Error::invalid(
                    "attributes.year_built.value",
                    "must be between 1000 and five years from now",
                ));
            }
        }
        Ok(())
    }
}

/// Normalises a tag (trimmed, lowercase) or says why it is not one.
pub fn normalise_tag(tag: &str) -> Result<String, Error> {
    let tag = tag.trim().to_lowercase();
    if tag.is_empty() || tag.chars().count() > MAX_TAG_LEN {
        return Err(Error::invalid("tag", "must be 1 to 40 characters"));
    }
    Ok(tag)
}

/// Normalises a set of tags, refusing too many.
pub fn normalise_tags(tags: &[String]) -> Result<BTreeSet<String>, Error> {
    let tags: BTreeSet<String> = tags
        .iter()
        .map(|t| normalise_tag(t))
        .collect::<Result<_, _>>()?;
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid("tags", "at most 50 tags per property"));
    }
    Ok(tags)
}
