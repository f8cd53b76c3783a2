//! How secrets print when settings are serialised (`deedlog config check`):
//! a fixed marker in place of each secret, and database URLs without their
//! password. Used through `#[serde(serialize_with = "…")]` on the fields.

use secrecy::{ExposeSecret, SecretString};
use serde::Serializer;

/// What a secret prints as.
pub const MARKER: &str = "***";

/// A secret setting: set or not, but never shown.
pub(crate) trait Secret {
    fn is_set(&self) -> bool;
}

impl Secret for SecretString {
    fn is_set(&self) -> bool {
        true
    }
}

impl Secret for Option<SecretString> {
    fn is_set(&self) -> bool {
        self.is_some()
    }
}

/// Serialises a set secret as [`MARKER`], an unset one as none.
pub(crate) fn secret<T: Secret, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if value.is_set() {
        serializer.serialize_str(MARKER)
    } else {
        serializer.serialize_none()
    }
}

/// Serialises a URL with its password replaced by [`MARKER`].
pub(crate) fn url<S: Serializer>(value: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&without_password(value.expose_secret()))
}

/// Replaces the password in `scheme://user:password@host/...` with [`MARKER`].
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:{MARKER}@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
