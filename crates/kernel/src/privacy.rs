//! Which fields of stored events are personal data, whose data they are,
//! and what they read as once that person is forgotten (ADR 0035).
//!
//! Pure declarations: each domain lists its personal fields
//! ([`PersonalFields`]) and the event that forgets a subject
//! ([`Forgetting`]). The privacy adapter (`deedlog-privacy`) seals the
//! listed fields with the subject's data key before an event is appended
//! and opens them when it is read; once the key is destroyed a field reads
//! as its [`Erased`] form, so every past event still decodes into its
//! domain type and replays.

use serde_json::Value;

/// What a forgotten text field reads as, everywhere: in events, states,
/// read models, exports and audit history.
pub const ERASED: &str = "[erased]";

/// Whose personal data a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The record the event belongs to (a contact: its stream id).
    Stream,
    /// The id (a UUID string) at this dotted path of the payload (a user
    /// named inside a tenant's event).
    Field(&'static str),
}

/// What a personal field reads as once its subject's key is destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// The text [`ERASED`].
    Text,
    /// JSON `null` (an optional structured value, such as an address).
    Null,
}

impl Erased {
    pub fn value(self) -> Value {
        match self {
            Erased::Text => Value::String(ERASED.to_owned()),
            Erased::Null => Value::Null,
        }
    }
}

/// The personal fields of one event type. A field that is absent or
/// `null` in a payload holds nothing and is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalFields {
    pub event_type: &'static str,
    pub subject: Subject,
    /// Dotted paths into the payload, each with its erased form.
    pub fields: &'static [(&'static str, Erased)],
}

/// The event that forgets a subject: appending it destroys the subject's
/// data key in the same transaction (the log's `forget_subject` trigger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forgetting {
    pub event_type: &'static str,
    pub subject: Subject,
}

/// The value at a dotted `path` of `payload`, if any.
pub fn field<'a>(payload: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(payload, |value, key| value.get(key))
}

/// The value at a dotted `path` of `payload`, for changing it in place.
pub fn field_mut<'a>(payload: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.')
        .try_fold(payload, |value, key| value.get_mut(key))
}

/// Replaces every non-null personal field of `payload` with its erased
/// form: what a reader without the subject's key sees.
pub fn erase(spec: &PersonalFields, payload: &mut Value) {
    for (path, erased) in spec.fields {
        if let Some(value) = field_mut(payload, path).filter(|v| !v.is_null()) {
            *value = erased.value();
        }
    }
}

/// The subject an event of `spec` is about, as the text of its id.
pub fn subject_of<'a>(subject: Subject, stream_id: &'a str, payload: &'a Value) -> Option<&'a str> {
    match subject {
        Subject::Stream => Some(stream_id),
        Subject::Field(path) => field(payload, path).and_then(Value::as_str),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: PersonalFields = PersonalFields {
        event_type: "X",
        subject: Subject::Field("user.id"),
        fields: &[
            ("user.email", Erased::Text),
            ("address", Erased::Null),
            ("phone", Erased::Text),
        ],
    };

    #[test]
    fn erase_replaces_present_fields_and_keeps_absent_and_null_ones() {
        let mut payload = json!({"user": {"id": "u1", "email": "a@b.c"}, "address": {"city": "X"}, "phone": null, "kept": 1});
        erase(&SPEC, &mut payload);
        assert_eq!(
            payload,
            json!({"user": {"id": "u1", "email": ERASED}, "address": null, "phone": null, "kept": 1})
        );
    }

    #[test]
    fn the_subject_is_the_stream_or_a_field() {
        let payload = json!({"user": {"id": "u1"}});
        assert_eq!(subject_of(Subject::Stream, "s", &payload), Some("s"));
        assert_eq!(subject_of(SPEC.subject, "s", &payload), Some("u1"));
        assert_eq!(subject_of(Subject::Field("nope"), "s", &payload), None);
    }
}
