//! A user's personal data in the tenant's events (ADR 0035): their email
//! and display name, sealed with the user's own data key (the subject is
//! the user named in the event, not the tenant), erased for good when
//! `UserForgotten` destroys that key. Roles, statuses and times stay.

use deedlog_kernel::privacy::{Erased, Forgetting, PersonalFields, Subject};

/// Every personal field of the tenant's events.
pub const PERSONAL: &[PersonalFields] = &[
    PersonalFields {
        event_type: "TenantRegistered",
        subject: Subject::Field("first_admin.id"),
        fields: &[
            ("first_admin.email", Erased::Text),
            ("first_admin.display_name", Erased::Text),
        ],
    },
    PersonalFields {
        event_type: "UserInvited",
        subject: Subject::Field("user.id"),
        fields: &[
            ("user.email", Erased::Text),
            ("user.display_name", Erased::Text),
        ],
    },
];

/// The event that forgets a user: `UserForgotten { user }`.
pub const FORGETTING: Forgetting = Forgetting {
    event_type: "UserForgotten",
    subject: Subject::Field("user"),
};
