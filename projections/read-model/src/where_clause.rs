//! Filtered statements put together safely: only from fixed fragments of
//! this crate and numbered placeholders ($1, $2, …); every value a caller
//! gave is bound, never written into the text.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::PgArguments;
use sqlx::Arguments;
use uuid::Uuid;

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Id(Uuid),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Bool(bool),
    Texts(Vec<String>),
}

/// The conditions of a statement and the values they bind.
#[derive(Debug, Clone, Default)]
pub(crate) struct WhereClause {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl WhereClause {
    /// Binds `value` and returns its placeholder, e.g. `$3`.
    pub(crate) fn placeholder(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Adds `fragment` with its `{}` standing for `value`'s placeholder.
    pub(crate) fn add(&mut self, fragment: &str, value: Bind) {
        let placeholder = self.placeholder(value);
        self.conditions.push(fragment.replace("{}", &placeholder));
    }

    /// Adds a condition whose placeholders were made with [`Self::placeholder`]
    /// (or a fixed one that binds nothing).
    pub(crate) fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `WHERE a AND b`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// Every value, in placeholder order, as a statement's arguments.
    pub(crate) fn arguments(self) -> Result<PgArguments, BoxDynError> {
        let mut args = PgArguments::default();
        for bind in self.binds {
            match bind {
                Bind::Text(v) => args.add(v),
                Bind::Int(v) => args.add(v),
                Bind::Id(v) => args.add(v),
                Bind::Time(v) => args.add(v),
                Bind::Date(v) => args.add(v),
                Bind::Bool(v) => args.add(v),
                Bind::Texts(v) => args.add(v),
            }?;
        }
        Ok(args)
    }
}
