//! A contact's email address and phone number in their one canonical form.
//!
//! The communications domain stores them so, and a search normalises what
//! it is given the same way: the read model finds a contact by the keyed
//! hash of the canonical form (its blind index, ADR 0036), so two spellings
//! of one number must become one string.

const MAX_EMAIL_LEN: usize = 254;

/// What a refused email address is told.
pub const EMAIL_RULE: &str = "must be an email address such as anna@example.com";
/// What a refused phone number is told.
pub const PHONE_RULE: &str =
    "must be an international number such as +49 30 123456 (E.164: + and 7 to 15 digits)";

/// The blind-index label of contacts' email addresses.
pub const EMAIL_INDEX: &str = "contact.email";
/// The blind-index label of contacts' phone numbers.
pub const PHONE_INDEX: &str = "contact.phone";

/// Trims and lower-cases an email address: one `@` with something on each
/// side, no spaces, at most 254 characters.
pub fn email(email: &str) -> Result<String, &'static str> {
    let email = email.trim().to_lowercase();
    let valid = email.chars().count() <= MAX_EMAIL_LEN
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(EMAIL_RULE)
    }
}

/// Drops spaces, hyphens, dots and parentheses, then requires E.164: `+`
/// and 7 to 15 digits, e.g. `+4930123456`.
pub fn phone(phone: &str) -> Result<String, &'static str> {
    let phone: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let valid = phone.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if valid {
        Ok(phone)
    } else {
        Err(PHONE_RULE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            email("  Anna@Example.COM ").as_deref(),
            Ok("anna@example.com")
        );
        for bad in [
            "",
            "anna",
            "@example.com",
            "anna@",
            "an na@example.com",
            "a@b@c",
        ] {
            assert_eq!(email(bad), Err(EMAIL_RULE), "{bad:?}");
        }
    }

    #[test]
    fn phones_lose_their_punctuation() {
        assert_eq!(phone("+49 (30) 123-45.6").as_deref(), Ok("+4930123456"));
        for bad in [
            "",
            "4930123456",
            "+49 30",
            "+49 30 12x456",
            "+1234567890123456",
        ] {
            assert_eq!(phone(bad), Err(PHONE_RULE), "{bad:?}");
        }
    }

    proptest! {
        /// Canonical forms are fixed points: normalising twice changes nothing,
        /// so a stored value and a search for it hash alike.
        #[test]
        fn canonical_forms_are_fixed_points(text in "[ +()0-9.A-Za-z@-]{0,30}") {
            if let Ok(once) = email(&text) {
                prop_assert_eq!(email(&once), Ok(once.clone()));
            }
            if let Ok(once) = phone(&text) {
                prop_assert_eq!(phone(&once), Ok(once.clone()));
            }
        }
    }
}
