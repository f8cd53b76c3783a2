//! Shared proto → domain conversions, each naming the field it rejects.

use crate::error::Error;
use chrono::NaiveDate;
use deedlog_kernel::{Currency, Money, UserId};
use deedlog_proto::common::v1 as pb;

/// Money the request may leave out; its currency must be one in
/// circulation ([`deedlog_kernel::money::IN_CIRCULATION`]).
pub fn optional_money(field: &str, money: Option<&pb::Money>) -> Result<Option<Money>, Error> {
    money
        .map(|m| {
            let currency = Currency::in_circulation(&m.currency).map_err(|_| {
                let given: String = m.currency.chars().take(20).collect();
                Error::invalid(
                    format!("{field}.currency"),
                    format!(
                        "{given:?} is not the ISO 4217 code of a currency in circulation; \
                         use an upper-case code such as EUR, USD or CHF"
                    ),
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

/// A date the request may leave out: a calendar date from 1900-01-01 to
/// 2199-12-31 (see [`deedlog_kernel::calendar`]).
pub fn optional_date(field: &str, date: Option<&pb::Date>) -> Result<Option<NaiveDate>, Error> {
    date.map(|d| {
        deedlog_kernel::calendar::business_date(d.year, d.month, d.day)
            .map_err(|e| Error::invalid(field, e.to_string()))
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

/// Declares both conversions between a proto enum (`pb::$proto`, as the
/// caller imports its package) and the domain enum with the same variants:
/// into the domain, `Unspecified` is refused as a missing `field`; into
/// proto, every variant maps. Written once, so the two cannot drift.
#[macro_export]
macro_rules! proto_enum {
    (
        $proto:ident <=> $domain:ident { $($variant:ident),+ $(,)? }
        from: $from:ident, field: $field:literal, missing: $missing:literal;
        to: $to:ident
    ) => {
        #[doc = concat!("The domain `", stringify!($domain), "` for a proto one.")]
        pub fn $from(value: pb::$proto) -> Result<$domain, $crate::Error> {
            match value {
                $(pb::$proto::$variant => Ok($domain::$variant),)+
                pb::$proto::Unspecified => Err($crate::Error::invalid($field, $missing)),
            }
        }

        #[doc = concat!("The proto form of a `", stringify!($domain), "`.")]
        pub fn $to(value: $domain) -> pb::$proto {
            match value {
                $($domain::$variant => pb::$proto::$variant,)+
            }
        }
    };
}
