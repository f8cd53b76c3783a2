//! The checks of what a command brings: names, slugs, email addresses.

use super::{Error, NewUser};

pub(super) fn invalid(field: &'static str, reason: &str) -> Error {
    Error::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

/// Lower-cases and checks an email address (one `@`, something on each side, a dot in the domain).
pub fn normalise_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(invalid(
            "email",
            "must be an email address such as anna@example.com",
        ))
    }
}

pub(super) fn check_user(user: &NewUser) -> Result<NewUser, Error> {
    let display_name = user.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(invalid("display_name", "must be 1 to 100 characters"));
    }
    Ok(NewUser {
        id: user.id,
        email: normalise_email(&user.email)?,
        display_name: display_name.to_owned(),
    })
}

pub(super) fn check_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// Slugs are 3–40 lowercase letters, digits and single hyphens, e.g. `berg-immobilien`.
/// Uniqueness across tenants is checked by the service before registering.
pub fn check_slug(slug: &str) -> Result<(), Error> {
    let valid = (3..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "slug",
            "must be 3 to 40 lowercase letters, digits and single hyphens",
        ))
    }
}
