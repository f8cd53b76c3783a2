//! Calendar dates a request may carry: one range for every context.
//!
//! A valuation date, an expected closing date or any other date of the
//! business lies between [`EARLIEST_DATE`] (1900-01-01) and [`LATEST_DATE`]
//! (2199-12-31), both included. Within the range every date is written
//! `YYYY-MM-DD` (four digits of year, no sign), the format the API
//! documents; year 1, 2100 is fine, but year 99999 would be written
//! `+99999-01-01` and is not a date anybody means.

use chrono::NaiveDate;

/// The earliest date a request may carry.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => panic!("1900-01-01 is a date"),
};

/// The latest date a request may carry.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(date) => date,
    None => panic!("2199-12-31 is a date"),
};

/// Why a date was refused; the text completes "<field> …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("{year}-{month:02}-{day:02} is not a calendar date")]
    NotADate { year: i32, month: u32, day: u32 },
    #[error("{0} is outside the dates accepted, 1900-01-01 to 2199-12-31")]
    OutOfRange(NaiveDate),
}

/// The date of `year`, `month` and `day`, if it is a calendar date within
/// [`EARLIEST_DATE`]..=[`LATEST_DATE`].
pub fn business_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, DateError> {
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::NotADate {
        year,
        month,
        day,
    })?;
    if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(DateError::OutOfRange(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_inclusive() {
        assert_eq!(business_date(1900, 1, 1), Ok(EARLIEST_DATE));
        assert_eq!(business_date(2199, 12, 31), Ok(LATEST_DATE));
        assert!(matches!(
            business_date(1899, 12, 31),
            Err(DateError::OutOfRange(_))
        ));
        assert!(matches!(
            business_date(2200, 1, 1),
            Err(DateError::OutOfRange(_))
        ));
    }

    #[test]
    fn years_no_one_means_are_refused_with_the_range() {
        for year in [1, 99_999, -5] {
            let error = business_date(year, 1, 1).expect_err("out of range");
            assert!(
                error.to_string().contains("1900-01-01 to 2199-12-31"),
                "{error}"
            );
        }
        assert_eq!(
            business_date(2025, 2, 30)
                .expect_err("no such day")
                .to_string(),
            "2025-02-30 is not a calendar date"
        );
    }
}
