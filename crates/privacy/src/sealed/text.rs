//! Opening a stored payload as text, without building its JSON tree: the
//! common case on every read of the log (a rebuild opens every contact
//! event), where each sealed field is a member of the payload's top level.
//! A field's plaintext is its JSON text, so it is spliced in where its
//! envelope stood. Anything else (a nested envelope, a damaged or unknown
//! key, an escaped member name) is left to the tree-based [`super::open`],
//! which gives the same result or names what is wrong: this path only ever
//! answers what that one would.

use super::{aad, KeyState, Place, SEALED_QUOTED};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use deedlog_kernel::privacy::ERASED;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

/// An envelope's contents, borrowed from the stored text.
#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(borrow)]
    k: Cow<'a, str>,
    #[serde(borrow)]
    n: Cow<'a, str>,
    #[serde(borrow)]
    c: Cow<'a, str>,
    #[serde(borrow)]
    e: Cow<'a, str>,
}

/// A member's value that is exactly an envelope.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(rename = "$sealed", borrow)]
    inner: Inner<'a>,
}

/// The key id each envelope in `text` names (those it can read), for
/// fetching keys before opening.
pub fn key_ids(text: &str) -> Vec<Uuid> {
    #[derive(Deserialize)]
    struct KeyOnly<'a> {
        #[serde(borrow)]
        k: Cow<'a, str>,
    }
    let mut ids = Vec::new();
    for (at, _) in text.match_indices(SEALED_QUOTED) {
        let rest = text[at + SEALED_QUOTED.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let mut de = serde_json::Deserializer::from_str(rest);
        if let Ok(found) = KeyOnly::deserialize(&mut de) {
            if let Ok(id) = found.k.parse() {
                ids.push(id);
            }
        }
    }
    ids
}

/// `text` with its top-level sealed members opened, or `None` when this
/// path cannot answer for it (the caller then opens the tree).
pub fn open(text: &str, place: Place<'_>, key: &impl Fn(Uuid) -> KeyState) -> Option<String> {
    let members = members(text)?;
    let mut out = String::with_capacity(text.len());
    out.push('{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Names without escapes (`members` refuses others) need none here.
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        let raw = value.get();
        // A string may read `"$sealed"` too; an envelope is an object.
        if !(raw.starts_with('{') && raw.contains(SEALED_QUOTED)) {
            out.push_str(raw);
            continue;
        }
        let envelope: Envelope<'_> = serde_json::from_str(raw).ok()?;
        opened(&envelope.inner, place, name, key, &mut out)?;
    }
    out.push('}');
    Some(out)
}

/// Appends the opened (or erased) field to `out`.
fn opened(
    inner: &Inner<'_>,
    place: Place<'_>,
    path: &str,
    key: &impl Fn(Uuid) -> KeyState,
    out: &mut String,
) -> Option<()> {
    let key_id: Uuid = inner.k.parse().ok()?;
    match key(key_id) {
        KeyState::Live(data_key) => {
            let nonce = STANDARD.decode(inner.n.as_bytes()).ok()?;
            let sealed = STANDARD.decode(inner.c.as_bytes()).ok()?;
            let plain = data_key.open(&nonce, &sealed, &aad(place, path, key_id))?;
            // Authenticated, so it is what was sealed; checked all the same
            // to be one JSON value, as the tree path requires.
            let mut de = serde_json::Deserializer::from_slice(&plain);
            IgnoredAny::deserialize(&mut de).ok()?;
            de.end().ok()?;
            out.push_str(std::str::from_utf8(&plain).ok()?);
        }
        KeyState::Destroyed => match inner.e.as_ref() {
            "text" => {
                out.push('"');
                out.push_str(ERASED);
                out.push('"');
            }
            "null" => out.push_str("null"),
            _ => return None,
        },
        KeyState::Unknown | KeyState::Unusable(_) => return None,
    }
    Some(())
}

/// The members of a top-level object, in stored order, each name without
/// escapes; `None` for anything else.
fn members(text: &str) -> Option<Vec<(&str, &RawValue)>> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(&'de str, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some(member) = map.next_entry::<&'de str, &'de RawValue>()? {
                members.push(member);
            }
            Ok(members)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let members = de.deserialize_map(Members).ok()?;
    de.end().ok()?;
    Some(members)
}
