//! Filtered statements put together safely: only from fixed fragments of
//! this crate and numbered placeholders ($1, $2, …); every value a caller
//! gave is bound, never written into the text.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{FromRow, Postgres};
use uuid::Uuid;

/// A value bound to a statement.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Id(Uuid),
    Time(DateTime<Utc>),
}

/// The conditions of a statement and the values they bind.
#[derive(Default)]
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

    /// Adds a condition whose placeholders were made with [`Self::placeholder`].
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

    /// Binds every value, in placeholder order, to `query`.
    pub(crate) fn bind_to<'q, O>(
        self,
        mut query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments>
    where
        O: for<'r> FromRow<'r, PgRow>,
    {
        for bind in self.binds {
            query = match bind {
                Bind::Text(v) => query.bind(v),
                Bind::Int(v) => query.bind(v),
                Bind::Id(v) => query.bind(v),
                Bind::Time(v) => query.bind(v),
            };
        }
        query
    }
}
