//! The sealed-field envelope (docs/privacy.md, ADR 0035). A personal field's
//! value is replaced, in the stored payload, by
//!
//! ```json
//! {"$sealed": {"k": "<data key id>", "n": "<nonce, base64>", "c": "<ciphertext and tag, base64>", "e": "text"}}
//! ```
//!
//! where the plaintext is the field's JSON text, the cipher AES-256-GCM,
//! and the associated data binds the tenant, the record (stream), the
//! event type, the field's path and the key id: a ciphertext copied to
//! another field, event type, record or tenant does not open. `e` is the field's erased form (`text` or `null`):
//! what the field reads as once its key is destroyed. An envelope carries
//! all a reader needs, so readers open any payload without knowing the
//! domains.

pub(crate) mod text;

use crate::data_key::DataKey;
use crate::error::Error;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use deedlog_kernel::privacy::{field_mut, Erased, PersonalFields};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The key of an envelope object, and a quick test for stored text.
pub const SEALED: &str = "$sealed";
const SEALED_QUOTED: &str = "\"$sealed\"";

/// Whether stored payload text may hold sealed fields (a cheap scan that
/// spares parsing the rest).
pub fn may_be_sealed(payload: &str) -> bool {
    payload.contains(SEALED_QUOTED)
}

/// Where an event's fields are bound: a sealed field opens only in the
/// tenant and event type it was sealed for.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub tenant: Uuid,
    pub stream: Uuid,
    pub event_type: &'a str,
}

fn aad(place: Place<'_>, path: &str, key_id: Uuid) -> Vec<u8> {
    format!(
        "deedlog.sealed.v1\0{}\0{}\0{}\0{}\0{}",
        place.tenant, place.stream, place.event_type, path, key_id
    )
    .into_bytes()
}

/// Seals the non-null personal fields of `spec` in `payload` with `key`.
pub fn seal(
    spec: &PersonalFields,
    place: Place<'_>,
    key_id: Uuid,
    key: &DataKey,
    payload: &mut Value,
) -> Result<(), Error> {
    for (path, erased) in spec.fields {
        let Some(value) = field_mut(payload, path).filter(|v| !v.is_null()) else {
            continue;
        };
        let plain = serde_json::to_vec(value).map_err(|_| Error::Crypto("serialise a field"))?;
        let (nonce, sealed) = key.seal(&plain, &aad(place, path, key_id))?;
        *value = json!({ SEALED: {
            "k": key_id.to_string(),
            "n": STANDARD.encode(nonce),
            "c": STANDARD.encode(sealed),
            "e": match erased { Erased::Text => "text", Erased::Null => "null" },
        }});
    }
    Ok(())
}

/// A sealed field found in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub key_id: Option<Uuid>,
}

/// Every sealed field of `payload`, in document order.
pub fn find(payload: &Value) -> Vec<Found> {
    let mut found = Vec::new();
    walk(payload, &mut String::new(), &mut |path, envelope| {
        found.push(Found {
            path: path.to_owned(),
            key_id: envelope
                .get("k")
                .and_then(Value::as_str)
                .and_then(|k| k.parse().ok()),
        });
    });
    found
}

fn walk(value: &Value, path: &mut String, visit: &mut impl FnMut(&str, &Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            if let Some(envelope) = envelope(map) {
                return visit(path, envelope);
            }
            for (key, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(child, path, visit);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&i.to_string());
                walk(child, path, visit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn envelope(map: &Map<String, Value>) -> Option<&Map<String, Value>> {
    match (map.len(), map.get(SEALED)) {
        (1, Some(Value::Object(inner))) => Some(inner),
        _ => None,
    }
}

/// What the reader holds for a key id.
#[derive(Debug, Clone)]
pub enum KeyState {
    Live(DataKey),
    /// Destroyed by forgetting its subject: the field reads as erased.
    Destroyed,
    /// No such key in this tenant: the payload or the key table is damaged.
    Unknown,
    /// The key exists but cannot be used (says why).
    Unusable(String),
}

/// Opens every sealed field of `payload` (of the event at `position`) in
/// place: to its value when its key is live, to its erased form when the
/// key was destroyed. Anything else is a [`Error::Damaged`] naming the
/// position and the field.
pub fn open(
    payload: &mut Value,
    place: Place<'_>,
    position: u64,
    key: &impl Fn(Uuid) -> KeyState,
) -> Result<(), Error> {
    for found in find(payload) {
        let damaged = |reason: &str| Error::Damaged {
            position,
            event_type: place.event_type.to_owned(),
            path: found.path.clone(),
            reason: reason.to_owned(),
        };
        let slot = field_mut(payload, &found.path).ok_or_else(|| damaged("vanished"))?;
        let inner = slot
            .get(SEALED)
            .ok_or_else(|| damaged("is not an envelope"))?;
        let key_id = found
            .key_id
            .ok_or_else(|| damaged("names no valid key id (`k`)"))?;
        let opened = match key(key_id) {
            KeyState::Destroyed => {
                erased_form(inner).ok_or_else(|| damaged("has no valid erased form (`e`)"))?
            }
            KeyState::Unknown => {
                return Err(damaged(&format!(
                    "names key {key_id}, which this tenant's key table does not hold"
                )))
            }
            KeyState::Unusable(reason) => {
                return Err(damaged(&format!("names key {key_id}, but {reason}")))
            }
            KeyState::Live(data_key) => {
                let bytes = |name: &str| {
                    inner
                        .get(name)
                        .and_then(Value::as_str)
                        .and_then(|text| STANDARD.decode(text).ok())
                };
                let (nonce, sealed) = bytes("n").zip(bytes("c")).ok_or_else(|| {
                    damaged("lacks its nonce (`n`) or ciphertext (`c`) in base64")
                })?;
                let plain = data_key
                    .open(&nonce, &sealed, &aad(place, &found.path, key_id))
                    .ok_or_else(|| damaged("does not open with its key: the ciphertext, nonce or field was changed"))?;
                serde_json::from_slice(&plain)
                    .map_err(|_| damaged("opens to text that is not JSON"))?
            }
        };
        *slot = opened;
    }
    Ok(())
}

fn erased_form(inner: &Value) -> Option<Value> {
    match inner.get("e").and_then(Value::as_str)? {
        "text" => Some(Erased::Text.value()),
        "null" => Some(Erased::Null.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_kernel::privacy::{Subject, ERASED};
    use proptest::prelude::*;

    const SPEC: PersonalFields = PersonalFields {
        event_type: "ContactCreated",
        subject: Subject::Stream,
        fields: &[
            ("name", Erased::Text),
            ("email", Erased::Text),
            ("address", Erased::Null),
        ],
    };

    fn place() -> Place<'static> {
        Place {
            tenant: Uuid::from_u128(7),
            stream: Uuid::from_u128(70),
            event_type: "ContactCreated",
        }
    }

    fn sealed(payload: &Value, key: &DataKey) -> Value {
        let mut payload = payload.clone();
        seal(&SPEC, place(), Uuid::from_u128(1), key, &mut payload).expect("seals");
        payload
    }

    proptest! {
        #[test]
        fn sealing_then_opening_gives_back_the_payload_and_the_text_holds_no_plaintext(
            name in "[a-zA-Z ]{3,40}", email in proptest::option::of("[a-z]{3,12}@[a-z]{3,9}\\.de"),
            street in "[a-zA-Z ]{4,30}"
        ) {
            let key = DataKey::generate().expect("key");
            let payload = json!({"name": name, "email": email, "address": {"street": street, "city": "Köln"}, "kept": 3});
            let mut stored = sealed(&payload, &key);
            let text = stored.to_string();
            prop_assert!(!text.contains(&name) && !text.contains(&street));
            if let Some(email) = &email { prop_assert!(!text.contains(email.as_str())); }
            prop_assert!(may_be_sealed(&text));
            open(&mut stored, place(), 1, &|_| KeyState::Live(key.clone())).expect("opens");
            prop_assert_eq!(stored, payload);
        }
    }

    proptest! {
        /// The text path answers exactly what the tree path does, for live
        /// and destroyed keys alike, and finds the same key ids.
        #[test]
        fn opening_as_text_gives_what_opening_the_tree_gives(
            name in "[a-zA-Z \"\\\\é]{0,20}", email in proptest::option::of("[a-z]{1,8}@[a-z]{1,8}"),
            street in proptest::option::of("[a-zA-Z ]{1,20}"), kept in proptest::collection::vec(0i64..1000, 0..3),
            destroyed in any::<bool>(),
        ) {
            let key = DataKey::generate().expect("key");
            let address = street.map(|s| json!({"street": s, "city": "Köln"}));
            let payload = json!({"name": name, "email": email, "address": address, "kept": kept, "note": "$sealed"});
            let stored = sealed(&payload, &key);
            let text = stored.to_string();
            let state = |_| if destroyed { KeyState::Destroyed } else { KeyState::Live(key.clone()) };
            let mut tree = stored.clone();
            open(&mut tree, place(), 1, &state).expect("opens");
            let opened = text::open(&text, place(), &state).expect("top-level fields open as text");
            prop_assert_eq!(serde_json::from_str::<Value>(&opened).expect("JSON"), tree);
            let ids: Vec<Uuid> = find(&stored).into_iter().filter_map(|f| f.key_id).collect();
            prop_assert_eq!(text::key_ids(&text), ids);
        }
    }

    #[test]
    fn what_the_text_path_cannot_answer_is_left_to_the_tree() {
        let key = DataKey::generate().expect("key");
        let live = |_| KeyState::Live(key.clone());
        let top = sealed(&json!({"name": "Ada"}), &key);
        // Nested, damaged, unknown, or not an object: no answer as text.
        let nested = json!({"user": top.clone()}).to_string();
        assert_eq!(text::open(&nested, place(), &live), None);
        let mut flipped = top.clone();
        flipped["name"][SEALED]["n"] = json!(STANDARD.encode([0u8; 12]));
        assert_eq!(text::open(&flipped.to_string(), place(), &live), None);
        assert_eq!(
            text::open(&top.to_string(), place(), &|_| KeyState::Unknown),
            None
        );
        assert_eq!(text::open("[1]", place(), &live), None);
        let extra = json!({"name": {SEALED: top["name"][SEALED].clone(), "x": 1}});
        assert_eq!(text::open(&extra.to_string(), place(), &live), None);
        // Moved to another field: the binding refuses it here too.
        let moved = json!({"email": top["name"].clone()}).to_string();
        assert_eq!(text::open(&moved, place(), &live), None);
    }

    #[test]
    fn a_destroyed_key_reads_as_the_erased_form() {
        let key = DataKey::generate().expect("key");
        let mut stored = sealed(
            &json!({"name": "Ada", "email": null, "address": {"city": "X"}}),
            &key,
        );
        open(&mut stored, place(), 1, &|_| KeyState::Destroyed).expect("opens");
        assert_eq!(
            stored,
            json!({"name": ERASED, "email": null, "address": null})
        );
    }

    #[test]
    fn damage_is_reported_with_the_position_and_the_field() {
        let key = DataKey::generate().expect("key");
        let stored = sealed(&json!({"name": "Ada"}), &key);
        let mut flipped = stored.clone();
        let c = flipped["name"][SEALED]["c"].as_str().expect("c").to_owned();
        let mut bytes = STANDARD.decode(c).expect("b64");
        bytes[0] ^= 1;
        flipped["name"][SEALED]["c"] = json!(STANDARD.encode(bytes));
        let error =
            open(&mut flipped, place(), 42, &|_| KeyState::Live(key.clone())).expect_err("damaged");
        let text = error.to_string();
        assert!(
            text.contains("position 42") && text.contains("`name`"),
            "{text}"
        );

        // Moved to another field, another event type or another tenant: refused too.
        let mut moved = json!({"email": stored["name"].clone()});
        assert!(open(&mut moved, place(), 43, &|_| KeyState::Live(key.clone())).is_err());
        let other_record = Place {
            stream: Uuid::from_u128(71),
            ..place()
        };
        assert!(
            open(&mut stored.clone(), other_record, 46, &|_| KeyState::Live(
                key.clone()
            ))
            .is_err()
        );
        let other = Place {
            tenant: Uuid::from_u128(8),
            ..place()
        };
        assert!(open(&mut stored.clone(), other, 44, &|_| KeyState::Live(
            key.clone()
        ))
        .is_err());
        let unknown = open(&mut stored.clone(), place(), 45, &|_| KeyState::Unknown)
            .expect_err("unknown key");
        assert!(unknown.to_string().contains("position 45"), "{unknown}");
    }
}
