//! Rules for names that end up in the log: event types and stream types.
//!
//! They are read by auditors and analysts in SQL and by other systems from
//! Kafka headers, so they are kept to a small, unambiguous alphabet.

/// The longest name accepted.
pub const MAX_NAME_LEN: usize = 128;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is empty")]
    Empty,
    #[error("is {len} characters long; at most {MAX_NAME_LEN} are allowed")]
    TooLong { len: usize },
    #[error("must start with an ASCII letter")]
    BadStart,
    #[error("contains {found:?}; only ASCII letters, digits, '.', '_' and '-' are allowed")]
    BadChar { found: char },
}

/// Checks that `name` starts with an ASCII letter and uses only letters,
/// digits, `.`, `_` and `-` (e.g. `PropertyListed`, `property.listed.v2`).
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let first = name.chars().next().ok_or(NameError::Empty)?;
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    if !first.is_ascii_alphabetic() {
        return Err(NameError::BadStart);
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(found) => Err(NameError::BadChar { found }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usual_names() {
        for name in [
            "PropertyListed",
            "deal.stage_moved",
            "a",
            "Contact-Forgotten2",
        ] {
            assert_eq!(validate_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_bad_names_with_the_reason() {
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert_eq!(validate_name("1st"), Err(NameError::BadStart));
        assert_eq!(
            validate_name("price changed"),
            Err(NameError::BadChar { found: ' ' })
        );
        assert_eq!(
            validate_name(&"x".repeat(129)),
            Err(NameError::TooLong { len: 129 })
        );
    }
}
