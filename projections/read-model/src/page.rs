//! Relay-style pages: `first` rows `after` a cursor reading forwards, or
//! `last` rows `before` one reading backwards, and whether more rows lie
//! either side.

use crate::error::Error;
use serde::{Deserialize, Serialize};

/// The largest page a caller may ask for.
pub const MAX_FIRST: i64 = 100;

/// Which way a page reads from its cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// `first` rows `after` the cursor (from the start without one).
    #[default]
    Forward,
    /// `last` rows `before` the cursor (up to the end without one), still
    /// returned in the list's order.
    Backward,
}

/// Which page to read: at most `size` rows on the `direction` side of the
/// row whose cursor is `cursor` (from the start, or up to the end reading
/// backwards, without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// How many rows, 1 to [`MAX_FIRST`].
    pub size: i64,
    /// An edge's cursor, or a page's `end_cursor` (forwards) or
    /// `start_cursor` (backwards).
    pub cursor: Option<String>,
    /// Which way to read.
    pub direction: Direction,
}

impl Page {
    /// The first `first` rows.
    pub fn first(first: i64) -> Self {
        Self {
            size: first,
            cursor: None,
            direction: Direction::Forward,
        }
    }

    /// `first` rows after `cursor`.
    pub fn after(first: i64, cursor: impl Into<String>) -> Self {
        Self {
            size: first,
            cursor: Some(cursor.into()),
            direction: Direction::Forward,
        }
    }

    /// The last `last` rows.
    pub fn last(last: i64) -> Self {
        Self {
            size: last,
            cursor: None,
            direction: Direction::Backward,
        }
    }

    /// `last` rows before `cursor`.
    pub fn before(last: i64, cursor: impl Into<String>) -> Self {
        Self {
            size: last,
            cursor: Some(cursor.into()),
            direction: Direction::Backward,
        }
    }

    /// Whether the page reads backwards.
    pub fn is_backward(&self) -> bool {
        self.direction == Direction::Backward
    }

    /// The argument that carried the size: `first` or `last`.
    fn size_field(&self) -> &'static str {
        match self.direction {
            Direction::Forward => "first",
            Direction::Backward => "last",
        }
    }

    /// The argument that carried the cursor: `after` or `before`.
    pub(crate) fn cursor_field(&self) -> &'static str {
        match self.direction {
            Direction::Forward => "after",
            Direction::Backward => "before",
        }
    }

    /// The size, checked: the number of rows to return.
    pub(crate) fn limit(&self) -> Result<i64, Error> {
        if (1..=MAX_FIRST).contains(&self.size) {
            Ok(self.size)
        } else {
            Err(Error::bad_input(
                self.size_field(),
                format!(
                    "a page holds 1 to {MAX_FIRST} rows, but {} were asked for",
                    self.size
                ),
            ))
        }
    }

    /// The refusal of this page's cursor, which is not one of the list's.
    pub(crate) fn malformed(&self) -> Error {
        malformed_cursor(
            self.cursor_field(),
            self.cursor.as_deref().unwrap_or_default(),
        )
    }

    /// The cursor of a list ordered by log position: the position itself.
    pub(crate) fn position(&self) -> Result<Option<i64>, Error> {
        self.cursor
            .as_deref()
            .map(|cursor| {
                cursor
                    .parse::<i64>()
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or_else(|| self.malformed())
            })
            .transpose()
    }
}

/// The refusal of `cursor`, passed as `field`, which no row of the list has.
pub(crate) fn malformed_cursor(field: &'static str, cursor: &str) -> Error {
    let shown: String = cursor.chars().take(40).collect();
    Error::bad_input(
        field,
        format!(
            "\"{shown}\" is not a cursor of this list; pass an edge's `cursor`, or a page's \
             `endCursor` (with `after`) or `startCursor` (with `before`), exactly as returned"
        ),
    )
}

/// A page of rows and where it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection<T> {
    /// The rows, each with its cursor, in the list's order.
    pub edges: Vec<Edge<T>>,
    /// Whether more rows lie either side, and the cursors to ask for them.
    pub page_info: PageInfo,
}

impl<T> Connection<T> {
    /// Builds a page from up to `limit + 1` rows fetched in `page`'s
    /// direction from its cursor (nearest first): the extra row only says
    /// that more lie that way. `rows_behind` says whether any lie on the
    /// cursor's other side (the cursor's own row included).
    pub(crate) fn from_rows(
        mut rows: Vec<T>,
        page: &Page,
        limit: i64,
        rows_behind: bool,
        cursor: impl Fn(&T) -> String,
    ) -> Self {
        // `limit` is 1..=MAX_FIRST (`Page::limit`), so it fits.
        let limit = usize::try_from(limit.clamp(0, MAX_FIRST)).unwrap_or_default();
        let more_that_way = rows.len() > limit;
        rows.truncate(limit);
        let (has_previous_page, has_next_page) = match page.direction {
            Direction::Forward => (rows_behind, more_that_way),
            Direction::Backward => {
                rows.reverse();
                (more_that_way, rows_behind)
            }
        };
        let edges: Vec<Edge<T>> = rows
            .into_iter()
            .map(|node| Edge {
                cursor: cursor(&node),
                node,
            })
            .collect();
        let start_cursor = edges.first().map(|e| e.cursor.clone());
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Self {
            edges,
            page_info: PageInfo {
                has_previous_page,
                has_next_page,
                start_cursor,
                end_cursor,
            },
        }
    }

    /// The rows without their cursors.
    pub fn nodes(&self) -> impl Iterator<Item = &T> {
        self.edges.iter().map(|e| &e.node)
    }
}

/// A row and its cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge<T> {
    /// Pass as `after` to continue after this row, or `before` to read
    /// the rows before it.
    pub cursor: String,
    /// The row.
    pub node: T,
}

/// Where a page starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct PageInfo {
    /// Whether rows precede this page.
    pub has_previous_page: bool,
    /// Whether rows follow this page.
    pub has_next_page: bool,
    /// The cursor of the page's first row (none for an empty page).
    pub start_cursor: Option<String>,
    /// The cursor of the page's last row (none for an empty page).
    pub end_cursor: Option<String>,
}
