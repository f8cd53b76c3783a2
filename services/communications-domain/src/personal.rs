//! A contact's personal data in the contact's events (ADR 0035): sealed
//! with the contact's data key before it is appended, erased for good when
//! `ContactForgotten` destroys that key. Consent sources, channels, times and
//! ids are not personal: the compliance history stays whole.

use deedlog_kernel::privacy::{Erased, Forgetting, PersonalFields, Subject};

/// Every personal field of the contact's events; the subject is the contact.
pub const PERSONAL: &[PersonalFields] = &[
    contact("ContactCreated"),
    contact("ContactUpdated"),
    PersonalFields {
        event_type: "MessageQueued",
        subject: Subject::Stream,
        fields: &[("subject", Erased::Text), ("body", Erased::Text)],
    },
    PersonalFields {
        event_type: "MessageBounced",
        subject: Subject::Stream,
        // A provider's bounce text often quotes the address.
        fields: &[("detail", Erased::Text)],
    },
    PersonalFields {
        event_type: "ReplyReceived",
        subject: Subject::Stream,
        fields: &[("body", Erased::Text)],
    },
];

/// The event that forgets a contact.
pub const FORGETTING: Forgetting = Forgetting {
    event_type: "ContactForgotten",
    subject: Subject::Stream,
};

const fn contact(event_type: &'static str) -> PersonalFields {
    PersonalFields {
        event_type,
        subject: Subject::Stream,
        fields: &[
            ("name", Erased::Text),
            ("email", Erased::Text),
            ("phone", Erased::Text),
            ("address", Erased::Null),
        ],
    }
}
