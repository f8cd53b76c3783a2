//! The statement every row query runs: `SELECT` a row type's columns from
//! its table, filtered and ordered by a fixed SQL tail, with its binds.

use super::{select, Row};
use crate::error::Error;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments, Encode, FromRow, PgConnection, Postgres, Type};
use std::marker::PhantomData;

/// `SELECT <columns of R> FROM <R's table> <tail>` with its arguments
/// bound in order (`$1`, `$2`, …). The tail is a constant of the calling
/// query; values only ever travel as binds.
pub(crate) struct Query<R> {
    sql: String,
    // An encoding error is kept until the query runs, as `sqlx::query` does.
    args: Result<PgArguments, BoxDynError>,
    row: PhantomData<fn() -> R>,
}

impl<R> Query<R>
where
    R: Row + for<'r> FromRow<'r, PgRow>,
{
    /// The rows of `R` that `tail` (`WHERE …`, `ORDER BY …`) picks.
    pub(crate) fn rows(tail: &str) -> Self {
        let sql = if tail.is_empty() {
            select::<R>()
        } else {
            format!("{} {tail}", select::<R>())
        };
        Self {
            sql,
            args: Ok(PgArguments::default()),
            row: PhantomData,
        }
    }

    /// Binds the next `$n`.
    pub(crate) fn bind<T>(mut self, value: T) -> Self
    where
        T: for<'q> Encode<'q, Postgres> + Type<Postgres>,
    {
        if let Ok(args) = &mut self.args {
            if let Err(e) = args.add(value) {
                self.args = Err(e);
            }
        }
        self
    }

    /// Every row, for `context` (what is being read, for the error).
    pub(crate) async fn all(
        self,
        conn: &mut PgConnection,
        context: &'static str,
    ) -> Result<Vec<R>, Error> {
        let args = self
            .args
            .map_err(|e| Error::db(context)(sqlx::Error::Encode(e)))?;
        sqlx::query_as_with(&self.sql, args)
            .fetch_all(conn)
            .await
            .map_err(Error::db(context))
    }

    /// The first row, if any: for a tail that picks at most one (a key).
    pub(crate) async fn optional(
        self,
        conn: &mut PgConnection,
        context: &'static str,
    ) -> Result<Option<R>, Error> {
        Ok(self.all(conn, context).await?.into_iter().next())
    }
}
