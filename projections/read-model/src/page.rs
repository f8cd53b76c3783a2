//! Relay-style pages: `first` rows `after` a cursor, and whether there are
//! more.

use crate::error::Error;
use serde::{Deserialize, Serialize};

/// The largest page a caller may ask for.
pub const MAX_FIRST: i64 = 100;

/// Which page to read: at most `first` rows after the row whose cursor is
/// `after` (from the start without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// How many rows, 1 to [`MAX_FIRST`].
    pub first: i64,
    /// The `end_cursor` of the previous page, or an edge's cursor.
    pub after: Option<String>,
}

impl Page {
    /// The first `first` rows.
    pub fn first(first: i64) -> Self {
        Self { first, after: None }
    }

    /// `first` rows after `cursor`.
    pub fn after(first: i64, cursor: impl Into<String>) -> Self {
        Self {
            first,
            after: Some(cursor.into()),
        }
    }

    /// `first`, checked: the number of rows to return.
    pub(crate) fn limit(&self) -> Result<i64, Error> {
        if (1..=MAX_FIRST).contains(&self.first) {
            Ok(self.first)
        } else {
            Err(Error::bad_input(
                "first",
                format!(
                    "a page holds 1 to {MAX_FIRST} rows, but {} were asked for",
                    self.first
                ),
            ))
        }
    }

    /// The cursor of a list ordered by log position: the position itself.
    pub(crate) fn after_position(&self) -> Result<Option<i64>, Error> {
        self.after
            .as_deref()
            .map(|cursor| {
                cursor
                    .parse::<i64>()
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or_else(|| malformed_cursor(cursor))
            })
            .transpose()
    }
}

pub(crate) fn malformed_cursor(cursor: &str) -> Error {
    let shown: String = cursor.chars().take(40).collect();
    Error::bad_input(
        "after",
        format!(
            "\"{shown}\" is not a cursor of this list; pass an `end_cursor` or an edge's `cursor` \
             exactly as returned"
        ),
    )
}

/// A page of rows and where it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection<T> {
    /// The rows, each with its cursor.
    pub edges: Vec<Edge<T>>,
    /// Whether more follow, and the cursor to ask for them.
    pub page_info: PageInfo,
}

impl<T> Connection<T> {
    /// Builds a page from up to `limit + 1` rows fetched: the extra row
    /// only says that there is a next page.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> Self {
        // `limit` is 1..=MAX_FIRST (`Page::limit`), so it fits.
        let limit = usize::try_from(limit.clamp(0, MAX_FIRST)).unwrap_or_default();
        let has_next_page = rows.len() > limit;
        rows.truncate(limit);
        let edges: Vec<Edge<T>> = rows
            .into_iter()
            .map(|node| Edge {
                cursor: cursor(&node),
                node,
            })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Self {
            edges,
            page_info: PageInfo {
                has_next_page,
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
    /// Pass as `after` to continue after this row.
    pub cursor: String,
    /// The row.
    pub node: T,
}

/// Where a page ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct PageInfo {
    /// Whether rows follow this page.
    pub has_next_page: bool,
    /// The cursor of the page's last row (none for an empty page).
    pub end_cursor: Option<String>,
}
