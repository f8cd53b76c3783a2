//! `Int64`: the one GraphQL scalar for 64-bit integers (ADR 0028).
//!
//! GraphQL's `Int` is 32 bits by the specification, and JavaScript reads a
//! JSON number exactly only up to 2^53 − 1. Money amounts in minor units and
//! log positions and versions are 64-bit, so the API carries every one of them
//! as `Int64` (the read-model row types hold it directly): written as a JSON
//! string of decimal digits, read from either such a string or a JSON integer
//! (so small literals keep working). Small counts stay `Int`.

use std::fmt;

/// A signed 64-bit integer for the API: a JSON string of decimal digits on
/// output (`"9007199254740993"`), a string of digits or a JSON integer on
/// input.
///
/// Serde (the rows' `Serialize`/`Deserialize`, not the API) sees the plain
/// number.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Int64(pub i64);

/// The scalar's description, as the schema shows it.
pub const INT64_DESCRIPTION: &str = "A signed 64-bit integer (-9223372036854775808 to \
9223372036854775807): money amounts in minor units, log positions and versions. It is \
written as a JSON string of decimal digits (\"9007199254740993\"), so JavaScript never \
loses precision, and read from such a string (an optional leading minus, digits only) or \
from a JSON integer. Fractions (\"12.5\", 12.5), other text and values beyond the 64-bit \
range are refused with BAD_USER_INPUT.";

/// Why an `Int64` input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Int64Error {
    /// Not an optional minus followed by decimal digits.
    NotDigits,
    /// A number with a fraction or an exponent.
    NotWhole,
    /// Beyond the 64-bit signed range.
    OutOfRange,
}

impl fmt::Display for Int64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Int64Error::NotDigits => {
                "expects a whole number as a string of decimal digits (\"12\", \"-5\") or a JSON integer"
            }
            Int64Error::NotWhole => "expects a whole number; fractions are not accepted",
            Int64Error::OutOfRange => {
                "is beyond the 64-bit range -9223372036854775808 to 9223372036854775807"
            }
        })
    }
}

impl std::error::Error for Int64Error {}

impl Int64 {
    /// Reads a string of decimal digits with an optional leading minus.
    pub fn parse_digits(text: &str) -> Result<Self, Int64Error> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            let fraction = text.split_once('.').is_some_and(|(whole, frac)| {
                let whole = whole.strip_prefix('-').unwrap_or(whole);
                !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && !frac.is_empty()
                    && frac.bytes().all(|b| b.is_ascii_digit())
            });
            return Err(if fraction {
                Int64Error::NotWhole
            } else {
                Int64Error::NotDigits
            });
        }
        text.parse::<i64>()
            .map(Int64)
            .map_err(|_| Int64Error::OutOfRange)
    }
}

/// Counters that add up amounts (the analytics projection) stop at the
/// ends of the range rather than wrap.
impl Int64 {
    pub fn saturating_add(self, other: Self) -> Self {
        Int64(self.0.saturating_add(other.0))
    }
}

impl PartialEq<i64> for Int64 {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<i64> for Int64 {
    fn partial_cmp(&self, other: &i64) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl From<i64> for Int64 {
    fn from(value: i64) -> Self {
        Int64(value)
    }
}

/// A `u64` (a service's version or log position) beyond `i64::MAX` is
/// [`Int64Error::OutOfRange`]: never clamped.
impl TryFrom<u64> for Int64 {
    type Error = Int64Error;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        i64::try_from(value)
            .map(Int64)
            .map_err(|_| Int64Error::OutOfRange)
    }
}

impl From<Int64> for i64 {
    fn from(value: Int64) -> Self {
        value.0
    }
}

impl fmt::Display for Int64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "graphql")]
mod graphql {
    use super::{Int64, Int64Error, INT64_DESCRIPTION};
    use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

    #[Scalar(name = "Int64", use_type_description)]
    impl ScalarType for Int64 {
        /// Checked while the request is validated, before any resolver
        /// runs: a refused value is reported as `Invalid value for argument
        /// "<argument path>", expected type "Int64"`, naming the argument
        /// (`position`, `input.askingPrice.amountMinor`).
        fn is_valid(value: &Value) -> bool {
            <Self as ScalarType>::parse(value.clone()).is_ok()
        }

        fn parse(value: Value) -> InputValueResult<Self> {
            let parsed = match &value {
                Value::String(text) => Int64::parse_digits(text),
                Value::Number(n) => match (n.as_i64(), n.is_u64()) {
                    (Some(v), _) => Ok(Int64(v)),
                    (None, true) => Err(Int64Error::OutOfRange),
                    (None, false) => match n.as_f64() {
                        Some(f) if f.fract() == 0.0 => Err(Int64Error::OutOfRange),
                        _ => Err(Int64Error::NotWhole),
                    },
                },
                _ => Err(Int64Error::NotDigits),
            };
            parsed.map_err(|e| InputValueError::custom(e.to_string()))
        }

        fn to_value(&self) -> Value {
            Value::String(self.0.to_string())
        }
    }

    impl async_graphql::Description for Int64 {
        fn description() -> &'static str {
            INT64_DESCRIPTION
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_read_exactly_beyond_javascripts_safe_range() {
        assert_eq!(
            Int64::parse_digits("9007199254740993"),
            Ok(Int64(9_007_199_254_740_993))
        );
        assert_eq!(Int64::parse_digits("-5"), Ok(Int64(-5)));
        assert_eq!(Int64::parse_digits("0"), Ok(Int64(0)));
        assert_eq!(
            Int64::parse_digits("9223372036854775807"),
            Ok(Int64(i64::MAX))
        );
        assert_eq!(
            Int64::parse_digits("-9223372036854775808"),
            Ok(Int64(i64::MIN))
        );
    }

    #[test]
    fn fractions_text_and_out_of_range_values_are_refused_with_the_reason() {
        assert_eq!(Int64::parse_digits("12.5"), Err(Int64Error::NotWhole));
        for text in ["abc", "", "-", " 12", "12 ", "+12", "1e3", "0x10", "١٢"] {
            assert_eq!(
                Int64::parse_digits(text),
                Err(Int64Error::NotDigits),
                "{text:?}"
            );
        }
        assert_eq!(
            Int64::parse_digits("9223372036854775808"),
            Err(Int64Error::OutOfRange)
        );
    }

    #[test]
    fn u64_values_beyond_i64_are_refused_not_clamped() {
        assert_eq!(Int64::try_from(42_u64), Ok(Int64(42)));
        assert_eq!(Int64::try_from(i64::MAX as u64), Ok(Int64(i64::MAX)));
        assert_eq!(
            Int64::try_from(i64::MAX as u64 + 1),
            Err(Int64Error::OutOfRange)
        );
        assert_eq!(Int64::try_from(u64::MAX), Err(Int64Error::OutOfRange));
    }

    #[cfg(feature = "graphql")]
    #[test]
    fn graphql_writes_a_string_and_reads_a_string_or_an_integer() {
        use async_graphql::{InputType, OutputType, Value};
        let big = Int64(9_007_199_254_740_993);
        assert_eq!(
            async_graphql::ScalarType::to_value(&big),
            Value::String("9007199254740993".into())
        );
        let read = |v: serde_json::Value| {
            <Int64 as InputType>::parse(Some(Value::from_json(v).expect("value")))
                .map_err(|e| e.into_server_error(Default::default()).message)
        };
        assert_eq!(read(serde_json::json!("9007199254740993")), Ok(big));
        assert_eq!(read(serde_json::json!(42)), Ok(Int64(42)));
        let refused = read(serde_json::json!("12.5")).expect_err("fraction");
        assert!(refused.contains("fractions"), "{refused}");
        let refused = read(serde_json::json!(12.5)).expect_err("fraction");
        assert!(refused.contains("fractions"), "{refused}");
        let refused = read(serde_json::json!("abc")).expect_err("text");
        assert!(refused.contains("decimal digits"), "{refused}");
        let refused = read(serde_json::json!(u64::MAX)).expect_err("range");
        assert!(refused.contains("64-bit range"), "{refused}");
        assert_eq!(<Int64 as OutputType>::type_name(), "Int64");
        let valid = |v: serde_json::Value| {
            <Int64 as async_graphql::ScalarType>::is_valid(&Value::from_json(v).expect("value"))
        };
        assert!(valid(serde_json::json!("9007199254740993")));
        assert!(valid(serde_json::json!(-5)));
        for refused in [
            serde_json::json!("12.5"),
            serde_json::json!(12.5),
            serde_json::json!("abc"),
            serde_json::json!(true),
            serde_json::json!(u64::MAX),
        ] {
            assert!(!valid(refused.clone()), "{refused}");
        }
    }
}
