//! Country codes in addresses: one rule for every service.
//!
//! A country is an ISO 3166-1 alpha-2 code. It is accepted in any letter case
//! and with surrounding whitespace (`de`, ` De `), and stored upper-case
//! (`DE`). Only officially assigned codes are accepted: a code of the right
//! shape that names no country (`XX`, `AA`, the user-assigned `XK`) is refused
//! like a name (`Deutschland`) or a single letter (`D`), so a typo never ends up
//! on a letter or in a report.

/// The officially assigned ISO 3166-1 alpha-2 codes (249), sorted.
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// What a refused country code is told.
pub const COUNTRY_RULE: &str =
    "must be an ISO 3166-1 alpha-2 country code such as DE (any letter case)";

/// Why a country code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountryError {
    #[error("is {given:?}; {COUNTRY_RULE}")]
    NotACode { given: String },
    #[error("is {code:?}, which is not an assigned ISO 3166-1 alpha-2 country code")]
    Unassigned { code: String },
}

/// Trims `raw`, upper-cases it and checks that it is an assigned ISO 3166-1
/// alpha-2 code: `" de "` becomes `"DE"`; `"Deutschland"`, `"D"` and `"XX"`
/// are refused.
pub fn normalise_country(raw: &str) -> Result<String, CountryError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        let given: String = raw.trim().chars().take(20).collect();
        return Err(CountryError::NotACode { given });
    }
    if ASSIGNED.binary_search(&code.as_str()).is_err() {
        return Err(CountryError::Unassigned { code });
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn any_case_and_surrounding_space_is_stored_upper_case() {
        for raw in ["DE", "de", " De ", "\tdE\n"] {
            assert_eq!(normalise_country(raw).as_deref(), Ok("DE"), "{raw:?}");
        }
        assert_eq!(normalise_country("gb").as_deref(), Ok("GB"));
    }

    #[test]
    fn names_single_letters_and_unassigned_codes_are_refused() {
        for raw in ["Deutschland", "D", "", "  ", "DEU", "D1", "Ü", "D E"] {
            assert!(
                matches!(normalise_country(raw), Err(CountryError::NotACode { .. })),
                "{raw:?}"
            );
        }
        for raw in ["XX", "aa", "XK", "EU", "UK"] {
            assert!(
                matches!(normalise_country(raw), Err(CountryError::Unassigned { .. })),
                "{raw:?}"
            );
        }
    }
}
