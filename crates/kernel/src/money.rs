//! Money: an integer number of minor units and an ISO 4217 currency. Never a float.
//!
//! Two checks of a currency code, on purpose: a request's money must be in
//! a currency in circulation ([`Currency::in_circulation`]: `XYZ`, `eur`,
//! the gold unit `XAU` or the test code `XTS` are refused), while a stored
//! event's money only needs the shape of a code ([`Currency::new`], what
//! serde uses), so that a currency withdrawn after it was recorded (as `HRK`
//! was in 2023) still replays.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 alphabetic currency code, e.g. `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// A currency code that is not three uppercase ASCII letters, or (for
/// [`Currency::in_circulation`]) not one of [`IN_CIRCULATION`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency {0:?} is not an ISO 4217 code of a currency in circulation, such as EUR (three upper-case letters)")]
pub struct CurrencyError(pub String);

/// The ISO 4217 alphabetic codes of the currencies in circulation (list one
/// as published in 2025), sorted: every national currency and the shared
/// ones (`EUR`, `XAF`, `XCD`, `XCG`, `XOF`, `XPF`). Left out, as money a
/// property or a deal is never priced in: fund codes (`BOV`, `CHE`, `CHW`,
/// `CLF`, `COU`, `MXV`, `USN`, `UYI`, `UYW`), precious metals (`XAU`,
/// `XAG`, `XPD`, `XPT`), bond-market and settlement units (`XBA`–`XBD`,
/// `XDR`, `XSU`, `XUA`), the test code `XTS` and "no currency" `XXX`, and
/// withdrawn codes (`HRK`, `CUC`, `SLL`, `ZWL`, …).
pub const IN_CIRCULATION: [&str; 157] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG",
];

impl Currency {
    /// A currency a request may price something in: one of
    /// [`IN_CIRCULATION`], exactly as written there (upper-case).
    pub fn in_circulation(code: &str) -> Result<Self, CurrencyError> {
        if IN_CIRCULATION.binary_search(&code).is_ok() {
            Self::new(code)
        } else {
            Err(CurrencyError(code.chars().take(20).collect()))
        }
    }

    /// Any code of the shape of one (three upper-case ASCII letters), as a
    /// stored event may carry; requests go through [`Currency::in_circulation`].
    pub fn new(code: &str) -> Result<Self, CurrencyError> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| CurrencyError(code.to_owned()))?;
        if bytes.iter().all(u8::is_ascii_uppercase) {
            Ok(Self(bytes))
        } else {
            Err(CurrencyError(code.to_owned()))
        }
    }

    pub fn code(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Digits after the decimal point (ISO 4217 exponent) for the usual currencies.
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::new(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The largest amount a command accepts, in minor units: 10^13, 100 billion
/// EUR. More than any property or deal is worth, and small enough that sums
/// and products of the deals' figures stay within an i128 at 18 decimal
/// places.
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000_000;

/// An amount of money in minor units (cents for EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }
}

impl fmt::Display for Money {
    /// Formats as `450,000.00 EUR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let scale = 10u64.pow(exponent);
        let magnitude = self.amount_minor.unsigned_abs();
        let (whole, fraction) = (magnitude / scale, magnitude % scale);
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        if exponent == 0 {
            write!(f, "{sign}{grouped} {}", self.currency)
        } else {
            write!(
                f,
                "{sign}{grouped}.{fraction:0width$} {}",
                self.currency,
                width = exponent as usize
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::new("EUR").expect("valid")
    }

    #[test]
    fn formats_with_grouping_and_minor_units() {
        assert_eq!(Money::new(45_000_000, eur()).to_string(), "450,000.00 EUR");
        assert_eq!(Money::new(-5, eur()).to_string(), "-0.05 EUR");
        let jpy = Currency::new("JPY").expect("valid");
        assert_eq!(Money::new(1_234_567, jpy).to_string(), "1,234,567 JPY");
    }

    #[test]
    fn currency_codes_are_checked() {
        for bad in ["eur", "EURO", "E1R", ""] {
            assert!(Currency::new(bad).is_err(), "{bad}");
        }
        let parsed: Result<Money, _> =
            serde_json::from_str(r#"{"amount_minor": 1, "currency": "usd"}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn the_list_of_codes_is_sorted_and_well_formed() {
        assert!(IN_CIRCULATION.windows(2).all(|w| w[0] < w[1]));
        for code in IN_CIRCULATION {
            assert!(Currency::new(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn only_currencies_in_circulation_price_a_request() {
        for good in ["EUR", "USD", "CHF", "GBP", "JPY", "XOF"] {
            assert_eq!(
                Currency::in_circulation(good).map(|c| c.to_string()),
                Ok(good.to_owned())
            );
        }
        for bad in ["XYZ", "XAU", "XTS", "XXX", "HRK", "eur", "EURO", ""] {
            assert!(Currency::in_circulation(bad).is_err(), "{bad}");
        }
        // A withdrawn code still reads back from a stored event.
        let stored: Money =
            serde_json::from_str(r#"{"amount_minor": 1, "currency": "HRK"}"#).expect("replays");
        assert_eq!(stored.currency.code(), "HRK");
    }
}
