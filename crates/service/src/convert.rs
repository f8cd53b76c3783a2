//! Shared proto → domain conversions, each naming the field it rejects.

use crate::error::Error;
use chrono::NaiveDate;
use deedlog_kernel::{Currency, Money, UserId};
use deedlog_proto::common::v1 as pb;

/// Money the request may leave out.
pub fn optional_money(field: &str, money: Option<&pb::Money>) -> Result<Option<Money>, Error> {
    money
        .map(|m| {
            let currency = Currency::new(&m.currency).map_err(|_| {
                Error::invalid(
                    format!("{field}.currency"),
                    format!("{:?} is not an ISO 4217 code such as EUR", m.currency),
                )
            })?;
            Ok(Money::new(m.amount_minor, currency))
        })
        .transpose()
}

/// Money the request must carry.
pub fn money(field: &str, money: Option<&pb::Money>) -> Result<Money, Error> {
    optional_money(field, money)?.ok_or_else(|| Error::invalid(field, "is required"))
}

/// A date the request may leave out.
pub fn optional_date(field: &str, date: Option<&pb::Date>) -> Result<Option<NaiveDate>, Error> {
    date.map(|d| {
        NaiveDate::from_ymd_opt(d.year, d.month, d.day).ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "{}-{:02}-{:02} is not a calendar date",
                    d.year, d.month, d.day
                ),
            )
        })
    })
    .transpose()
}

/// A user id the request must carry.
pub fn user(field: &str, value: &str) -> Result<UserId, Error> {
    crate::request::required_uuid(field, value).map(UserId::from_uuid)
}

/// The proto form of a domain date.
pub fn date_to_proto(date: NaiveDate) -> pb::Date {
    use chrono::Datelike;
    pb::Date {
        year: date.year(),
        month: date.month(),
        day: date.day(),
    }
}

/// The proto form of money.
pub fn money_to_proto(money: &Money) -> pb::Money {
    pb::Money {
        amount_minor: money.amount_minor,
        currency: money.currency.to_string(),
    }
}
