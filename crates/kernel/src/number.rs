//! Conversions between integer types that name what overflowed instead of
//! hiding it behind a clamped value.
//!
//! Three cases, three tools:
//! - a value that cannot overflow in practice (a length, a log position
//!   read from a bigint column): [`fit`], whose error names the value;
//! - a bound or a gauge, where the largest value means the same as any
//!   larger one: [`saturating_i64`];
//! - a count checked against a `u32` limit: [`reaches`].

use std::fmt;

/// A number that does not fit the type it must be stored or sent as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value} does not fit in {target}")]
pub struct Overflow {
    /// What the number is ("event position", "stored count").
    pub what: &'static str,
    /// The number, as text (it may not fit any one type).
    pub value: String,
    /// The type it had to fit.
    pub target: &'static str,
}

/// Converts `value` to `U`, or says that `what` does not fit.
pub fn fit<T, U>(what: &'static str, value: T) -> Result<U, Overflow>
where
    T: Copy + fmt::Display,
    U: TryFrom<T>,
{
    U::try_from(value).map_err(|_| Overflow {
        what,
        value: value.to_string(),
        target: std::any::type_name::<U>(),
    })
}

/// `value` as an `i64`, `i64::MAX` when larger. Only for a bound of a range
/// (no stored position or version passes `i64::MAX`, so a larger bound
/// selects the same rows) or a gauge, where the largest value is the truth
/// as far as it can be told.
pub fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Whether `count` has reached `limit`. A count too large for a `u32` is
/// past every limit, so nothing needs converting or clamping.
pub fn reaches(count: usize, limit: u32) -> bool {
    u32::try_from(count).map_or(true, |count| count >= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_converts_what_fits() {
        assert_eq!(fit::<u64, i64>("event position", 42), Ok(42));
        assert_eq!(fit::<i64, u64>("stored count", 0), Ok(0));
    }

    #[test]
    fn fit_names_what_overflowed() {
        let error = fit::<u64, i64>("event position", u64::MAX).expect_err("overflows");
        assert_eq!(
            error.to_string(),
            "event position 18446744073709551615 does not fit in i64"
        );
        let error = fit::<i64, u64>("stored count", -1).expect_err("negative");
        assert_eq!(error.to_string(), "stored count -1 does not fit in u64");
    }

    #[test]
    fn saturating_i64_clamps_only_above_i64_max() {
        assert_eq!(saturating_i64(0), 0);
        assert_eq!(saturating_i64(i64::MAX as u64), i64::MAX);
        assert_eq!(saturating_i64(u64::MAX), i64::MAX);
    }

    #[test]
    fn reaches_compares_counts_with_limits() {
        assert!(!reaches(2, 3));
        assert!(reaches(3, 3));
        assert!(reaches(4, 3));
        assert!(reaches(usize::MAX, u32::MAX));
        assert!(!reaches(0, u32::MAX));
    }
}
