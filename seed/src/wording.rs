//! What the seeded records say: messages an agency sends (in German, as a
//! German or Austrian agency writes to its clients), buyers' replies,
//! reasons deals are lost, where consents came from, tags and valuation
//! providers.

/// Tags agents put on listings.
pub const TAGS: &[&str] = &[
    "balcony",
    "garden",
    "elevator",
    "new-build",
    "listed-building",
    "parking",
    "cellar",
    "fitted-kitchen",
    "roof-terrace",
    "investment",
    "barrier-free",
    "renovated",
    "quiet-location",
    "near-transit",
];

/// Data providers of automated valuations (made-up names).
pub const VALUATION_PROVIDERS: &[&str] = &["GeoValue AVM", "Marktwert Online", "PreisAtlas"];

/// Where a buyer's consent to be emailed came from.
pub const EMAIL_CONSENT_SOURCES: &[&str] = &[
    "Kontaktformular Website",
    "Portal-Anfrage",
    "Besichtigung vor Ort",
    "Newsletter-Anmeldung",
];

/// Where a consent to text messages came from.
pub const SMS_CONSENT_SOURCES: &[&str] = &["Telefonat", "Besichtigung vor Ort"];

pub const WITHDRAWAL_SOURCES: &[&str] = &["E-Mail an das Maklerbüro", "Telefonat"];

pub const UNSUBSCRIBE_SOURCE: &str = "Abmeldelink im Newsletter";

/// Why a deal was lost, as agents note it.
pub const LOST_REASONS: &[&str] = &[
    "Finanzierung wurde nicht bestätigt",
    "Käufer hat ein anderes Objekt gekauft",
    "Preisvorstellungen liegen zu weit auseinander",
    "Gutachten: Sanierungsbedarf zu hoch",
    "Käufer meldet sich nicht mehr",
    "Verkäufer hat den Verkauf zurückgezogen",
];

/// Buyers' replies to an agency's email.
pub const REPLIES: &[&str] = &[
    "Vielen Dank für das Exposé. Ist die Immobilie noch verfügbar?",
    "Gerne würde ich einen Besichtigungstermin vereinbaren.",
    "Donnerstagnachmittag würde mir gut passen.",
    "Könnten Sie mir bitte auch den Energieausweis schicken?",
    "Wir haben uns beraten und möchten gern ein Angebot abgeben.",
];

/// Hard and soft bounce details as mail providers word them.
pub const HARD_BOUNCES: &[&str] = &["550 5.1.1 user unknown", "550 mailbox unavailable"];
pub const SOFT_BOUNCES: &[&str] = &["452 4.2.2 mailbox full", "421 try again later"];

/// The first email to a buyer who asked about a listing.
pub fn expose_email(buyer: &str, street: &str, city: &str, agent: &str) -> (String, String) {
    (
        format!("Ihr Interesse an {street}, {city}"),
        format!(
            "Guten Tag {buyer},\n\nvielen Dank für Ihre Anfrage zur Immobilie in der {street}. \
             Anbei erhalten Sie das Exposé mit Grundriss und Energieausweis.\n\n\
             Für Rückfragen oder einen Besichtigungstermin bin ich gern für Sie da.\n\n\
             Mit freundlichen Grüßen\n{agent}"
        ),
    )
}

/// An invitation to view the property.
pub fn viewing_email(buyer: &str, street: &str, agent: &str) -> (String, String) {
    (
        format!("Besichtigungstermin {street}"),
        format!(
            "Guten Tag {buyer},\n\ngern zeige ich Ihnen die Immobilie in der {street} persönlich. \
             Passt Ihnen ein Termin in dieser oder der nächsten Woche?\n\n\
             Mit freundlichen Grüßen\n{agent}"
        ),
    )
}

/// A follow-up on the buyer's offer.
pub fn offer_email(buyer: &str, street: &str, agent: &str) -> (String, String) {
    (
        format!("Ihr Angebot für {street}"),
        format!(
            "Guten Tag {buyer},\n\nich habe Ihr Angebot an die Eigentümer weitergegeben \
             und melde mich, sobald ich eine Rückmeldung habe.\n\n\
             Mit freundlichen Grüßen\n{agent}"
        ),
    )
}

/// A text-message reminder of a viewing.
pub fn viewing_sms(street: &str, agent: &str) -> String {
    format!("Erinnerung: Besichtigung {street}. Bei Fragen einfach antworten. Viele Grüße, {agent}")
}
