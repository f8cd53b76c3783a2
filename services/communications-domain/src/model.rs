//! The values a contact is made of, each checked and normalised on the way in.

use crate::error::Error;
use deedlog_kernel::contact_point;
use serde::{Deserialize, Serialize};

const MAX_NAME_LEN: usize = 200;
const MAX_TEXT_LEN: usize = 200;

/// A way of reaching a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Call,
    Letter,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::Call, Channel::Letter];

    /// Whether the do-not-call list covers this channel (it rings or buzzes a phone).
    pub fn covered_by_do_not_call(self) -> bool {
        matches!(self, Channel::Sms | Channel::Call)
    }

    /// Whether quiet hours apply: nobody's phone should ring or buzz at night.
    pub fn has_quiet_hours(self) -> bool {
        matches!(self, Channel::Sms | Channel::Call)
    }

    /// Whether a message on this channel can carry a subject line.
    pub fn has_subject(self) -> bool {
        matches!(self, Channel::Email | Channel::Letter)
    }

    /// Whether a message needs a body; a call's body is its note and may be empty.
    pub fn requires_body(self) -> bool {
        !matches!(self, Channel::Call)
    }

    /// What a contact must have to be reached on this channel, in words.
    pub fn address_kind(self) -> &'static str {
        match self {
            Channel::Email => "email address",
            Channel::Sms | Channel::Call => "phone number",
            Channel::Letter => "postal address",
        }
    }
}

deedlog_kernel::stored_names!(Channel {
    Email => "email",
    Sms => "sms",
    Call => "call",
    Letter => "letter",
});

/// The legal ground on which a contact may be messaged on a channel (GDPR art. 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    Consent,
    Contract,
    LegitimateInterest,
    LegalObligation,
}

impl LawfulBasis {
    pub const ALL: [LawfulBasis; 4] = [
        LawfulBasis::Consent,
        LawfulBasis::Contract,
        LawfulBasis::LegitimateInterest,
        LawfulBasis::LegalObligation,
    ];
}

deedlog_kernel::stored_names!(LawfulBasis {
    Consent => "consent",
    Contract => "contract",
    LegitimateInterest => "legitimate_interest",
    LegalObligation => "legal_obligation",
});

/// A postal address for letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper-case, e.g. `DE` (given in any case).
    pub country: String,
}

impl PostalAddress {
    /// Returns the address trimmed, with the country upper-cased, or says which part is wrong.
    pub fn normalised(&self) -> Result<Self, Error> {
        // One rule with properties: deedlog_kernel::normalise_country.
        let country = deedlog_kernel::normalise_country(&self.country)
            .map_err(|e| Error::invalid("address.country", &e.to_string()))?;
        Ok(Self {
            street: required_text("address.street", &self.street)?,
            postal_code: required_text("address.postal_code", &self.postal_code)?,
            city: required_text("address.city", &self.city)?,
            country,
        })
    }
}

/// Trims a required text of at most 200 characters.
pub(crate) fn required_text(field: &'static str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(Error::invalid(field, "must be at most 200 characters"));
    }
    Ok(value.to_owned())
}

/// Trims a contact's name: 1 to 200 characters.
pub fn normalise_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

/// An email address in its canonical form (`deedlog_kernel::contact_point`).
pub fn normalise_email(email: &str) -> Result<String, Error> {
    contact_point::email(email).map_err(|rule| Error::invalid("email", rule))
}

/// A phone number in its canonical form, E.164 (`deedlog_kernel::contact_point`).
pub fn normalise_phone(phone: &str) -> Result<String, Error> {
    contact_point::phone(phone).map_err(|rule| Error::invalid("phone", rule))
}

/// Trims where a consent, withdrawal or unsubscription came from, e.g. `web form`.
pub fn normalise_source(source: &str) -> Result<String, Error> {
    required_text("source", source)
}
