//! A list read a page at a time in a total order (keyset paging), forwards
//! or backwards from a cursor, and counted only when asked.

use crate::error::Error;
use crate::page::{Connection, Direction, Page};
use crate::row::{select, Row};
use crate::where_clause::{Bind, WhereClause};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// A list's order: sort-key expressions, all ascending or all descending,
/// never null, the last ones unique, so that a key names one place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Order {
    /// The order's name in its cursors, e.g. `updated_desc`.
    pub(crate) name: &'static str,
    pub(crate) keys: &'static [&'static str],
    /// What each key is, for reading a cursor (as many as `keys`).
    pub(crate) kinds: &'static [KeyKind],
    pub(crate) descending: bool,
}

impl Order {
    /// Ascending by `keys`, named `name` in cursors.
    pub(crate) const fn asc(
        name: &'static str,
        keys: &'static [&'static str],
        kinds: &'static [KeyKind],
    ) -> Self {
        Self {
            name,
            keys,
            kinds,
            descending: false,
        }
    }

    /// Descending by `keys`, named `name` in cursors.
    pub(crate) const fn desc(
        name: &'static str,
        keys: &'static [&'static str],
        kinds: &'static [KeyKind],
    ) -> Self {
        Self {
            descending: true,
            ..Self::asc(name, keys, kinds)
        }
    }

    /// A row's cursor: the order's name and the row's sort key,
    /// `<name>:<key>:<key>…`. Callers treat it as opaque.
    pub(crate) fn cursor(self, key: &[Key]) -> String {
        let mut text = self.name.to_owned();
        for k in key {
            text.push(':');
            text.push_str(&k.text());
        }
        text
    }

    /// Binds the sort key `page`'s cursor names and returns its SQL;
    /// refuses a cursor of another list or order.
    fn bind_cursor(self, page: &Page, clause: &mut WhereClause) -> Result<String, Error> {
        let text = page.cursor.as_deref().unwrap_or_default();
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        if name != self.name {
            let known =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if known && parts.clone().count() == self.kinds.len() {
                return Err(Error::bad_input(
                    page.cursor_field(),
                    format!(
                        "the cursor belongs to the list ordered by {name}, not by {}",
                        self.name
                    ),
                ));
            }
            return Err(page.malformed());
        }
        let values: Vec<&str> = parts.collect();
        if values.len() != self.kinds.len() {
            return Err(page.malformed());
        }
        let mut placeholders = Vec::with_capacity(values.len());
        for (kind, value) in self.kinds.iter().zip(values) {
            let key = kind.parse(value).ok_or_else(|| page.malformed())?;
            placeholders.push(clause.placeholder(key.bind()));
        }
        Ok(placeholders.join(", "))
    }

    /// Whether a page in `direction` reads the rows in descending key order.
    fn reads_descending(self, direction: Direction) -> bool {
        self.descending != (direction == Direction::Backward)
    }

    /// The rows beyond the key `cursor` (SQL of the same arity) in `direction`.
    fn beyond(self, direction: Direction, cursor: &str) -> String {
        let op = if self.reads_descending(direction) {
            "<"
        } else {
            ">"
        };
        format!("({}) {op} ({cursor})", self.keys.join(", "))
    }

    /// `ORDER BY` for a page in `direction` (nearest the cursor first).
    fn order_by(self, direction: Direction) -> String {
        let way = if self.reads_descending(direction) {
            "DESC"
        } else {
            "ASC"
        };
        let keys: Vec<String> = self.keys.iter().map(|k| format!("{k} {way}")).collect();
        format!("ORDER BY {}", keys.join(", "))
    }
}

/// What a sort key is, as its cursor writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// An instant, as microseconds since the epoch.
    Time,
    /// A whole number (amounts, positions, days).
    Int,
    /// An id.
    Id,
    /// A yes or no, as 1 or 0.
    Flag,
}

impl KeyKind {
    fn parse(self, text: &str) -> Option<Key> {
        match self {
            Self::Time => DateTime::from_timestamp_micros(text.parse().ok()?).map(Key::Time),
            Self::Int => text.parse().ok().map(Key::Int),
            Self::Id => Uuid::parse_str(text).ok().map(Key::Id),
            Self::Flag => match text {
                "1" => Some(Key::Flag(true)),
                "0" => Some(Key::Flag(false)),
                _ => None,
            },
        }
    }
}

/// One value of a row's sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Time(DateTime<Utc>),
    Int(i64),
    Id(Uuid),
    Flag(bool),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Self::Time(t) => t.timestamp_micros().to_string(),
            Self::Int(i) => i.to_string(),
            Self::Id(id) => id.to_string(),
            Self::Flag(f) => if *f { "1" } else { "0" }.to_owned(),
        }
    }

    fn bind(self) -> Bind {
        match self {
            Self::Time(t) => Bind::Time(t),
            Self::Int(i) => Bind::Int(i),
            Self::Id(id) => Bind::Id(id),
            Self::Flag(f) => Bind::Bool(f),
        }
    }
}

/// The statements of one filtered list: its page and its count.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    /// `SELECT <columns> FROM <table>`.
    select: String,
    /// `<schema>.<table>`, counted by [`Self::count`].
    table: String,
    filters: WhereClause,
    order: Order,
}

impl Listing {
    /// The rows of `R`'s table that `filters` keep, in `order`.
    pub(crate) fn of<R: Row>(filters: WhereClause, order: Order) -> Self {
        Self {
            select: select::<R>(),
            table: format!("{}.{}", R::SCHEMA, R::TABLE),
            filters,
            order,
        }
    }

    /// Like [`Self::of`], for a table without a row type: `columns` of `table`.
    pub(crate) fn columns(
        columns: &str,
        table: &'static str,
        filters: WhereClause,
        order: Order,
    ) -> Self {
        Self {
            select: format!("SELECT {columns} FROM {table}"),
            table: table.to_owned(),
            filters,
            order,
        }
    }

    /// A page of the list. `key` reads the page's cursor: it binds what
    /// the cursor names in the clause and returns the SQL of its sort key
    /// (as many values as the order has keys), or refuses the cursor.
    /// `cursor` writes a row's cursor.
    pub(crate) async fn page<R>(
        mut self,
        conn: &mut PgConnection,
        page: &Page,
        key: impl FnOnce(&mut WhereClause, &str) -> Result<String, Error>,
        cursor: impl Fn(&R) -> String,
        context: &'static str,
    ) -> Result<Connection<R>, Error>
    where
        R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let limit = page.limit()?;
        // The rows on the cursor's other side: whether any exist is read
        // (one index probe) only for a page that starts at a cursor.
        let mut behind = None;
        if let Some(text) = page.cursor.as_deref() {
            let key = key(&mut self.filters, text)?;
            let beyond = self.order.beyond(page.direction, &key);
            let mut other_side = self.filters.clone();
            other_side.condition(format!("NOT ({beyond})"));
            behind = Some(other_side);
            self.filters.condition(beyond);
        }
        let limit_placeholder = self.filters.placeholder(Bind::Int(limit + 1));
        let sql = format!(
            "{} {} {} LIMIT {limit_placeholder}",
            self.select,
            self.filters.sql(),
            self.order.order_by(page.direction)
        );
        let args = self
            .filters
            .arguments()
            .map_err(|e| Error::db(context)(sqlx::Error::Encode(e)))?;
        let rows = sqlx::query_as_with(&sql, args)
            .fetch_all(&mut *conn)
            .await
            .map_err(Error::db(context))?;
        let rows_behind = match behind {
            None => false,
            Some(clause) => {
                let sql = format!(
                    "SELECT EXISTS (SELECT 1 FROM {} {})",
                    self.table,
                    clause.sql()
                );
                let args = clause
                    .arguments()
                    .map_err(|e| Error::db(context)(sqlx::Error::Encode(e)))?;
                sqlx::query_scalar_with(&sql, args)
                    .fetch_one(conn)
                    .await
                    .map_err(Error::db(context))?
            }
        };
        Ok(Connection::from_rows(
            rows,
            page,
            limit,
            rows_behind,
            cursor,
        ))
    }

    /// A page of the list whose cursors carry the sort key (`key` gives a
    /// row's, in the order's kinds).
    pub(crate) async fn page_by_key<R>(
        self,
        conn: &mut PgConnection,
        page: &Page,
        key: impl Fn(&R) -> Vec<Key>,
        context: &'static str,
    ) -> Result<Connection<R>, Error>
    where
        R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let order = self.order;
        self.page(
            conn,
            page,
            |clause, _| order.bind_cursor(page, clause),
            |row| order.cursor(&key(row)),
            context,
        )
        .await
    }

    /// How many rows the filters keep, whatever the page.
    pub(crate) async fn count(
        self,
        conn: &mut PgConnection,
        context: &'static str,
    ) -> Result<i64, Error> {
        let sql = format!("SELECT count(*) FROM {} {}", self.table, self.filters.sql());
        let args = self
            .filters
            .arguments()
            .map_err(|e| Error::db(context)(sqlx::Error::Encode(e)))?;
        sqlx::query_scalar_with(&sql, args)
            .fetch_one(conn)
            .await
            .map_err(Error::db(context))
    }
}

/// The key of a list ordered by log position alone: the cursor is the
/// position.
pub(crate) fn position_key(page: &Page, clause: &mut WhereClause) -> Result<String, Error> {
    let position = page.position()?.ok_or_else(|| page.malformed())?;
    Ok(clause.placeholder(Bind::Int(position)))
}
