//! Field paths as the request names them. A domain names the fields it
//! refuses in its own words (`name`, `price.amount_minor`); a request may
//! nest or prefix them (`details.name`, `asking_price.amount_minor`). Each
//! request whose paths differ has one [`Paths`] table in its adapter, so a
//! field violation always names the path of the request message.

use crate::error::Error;

/// How one request names a domain's fields: pairs of (domain field or
/// prefix, request path). A domain field `from`, `from.rest` or
/// `from[i]…` becomes `to`, `to.rest` or `to[i]…`; the first pair that
/// fits wins; a field no pair fits is already the request's path.
#[derive(Debug, Clone, Copy)]
pub struct Paths(pub &'static [(&'static str, &'static str)]);

impl Paths {
    /// For requests that name the domain's fields as they are.
    pub const AS_NAMED: Paths = Paths(&[]);

    /// The request's path of a domain's field.
    pub fn path(&self, field: &str) -> String {
        for (from, to) in self.0 {
            if let Some(rest) = field.strip_prefix(from) {
                if rest.is_empty() || rest.starts_with('.') || rest.starts_with('[') {
                    return format!("{to}{rest}");
                }
            }
        }
        field.to_owned()
    }

    /// `error` with its field, if it names one, as the request names it.
    pub fn rename(&self, error: Error) -> Error {
        match error {
            Error::InvalidArgument { field, reason } => Error::InvalidArgument {
                field: self.path(&field),
                reason,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTACT: Paths = Paths(&[("name", "details.name"), ("address", "details.address")]);

    #[test]
    fn a_prefix_maps_the_field_and_what_is_below_it() {
        assert_eq!(CONTACT.path("name"), "details.name");
        assert_eq!(CONTACT.path("address.country"), "details.address.country");
        assert_eq!(CONTACT.path("command.command_id"), "command.command_id");
        // `names` is another field, not below `name`.
        assert_eq!(CONTACT.path("names"), "names");
    }

    #[test]
    fn only_invalid_arguments_are_renamed() {
        assert_eq!(
            CONTACT.rename(Error::invalid("name", "must not be empty")),
            Error::invalid("details.name", "must not be empty")
        );
        assert_eq!(
            CONTACT.rename(Error::NotFound("name".to_owned())),
            Error::NotFound("name".to_owned())
        );
    }
}
