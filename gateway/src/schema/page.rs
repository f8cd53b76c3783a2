//! Relay-style connections (async-graphql's own: edges with opaque cursors,
//! `pageInfo`), with a bounded page size (`first` 1–100, checked by the
//! read-model crate).

use async_graphql::connection::{self, Edge};
use async_graphql::OutputType;
use deedlog_read_model as rm;

/// Rows 20 unless asked otherwise.
pub const DEFAULT_FIRST: i32 = 20;

/// A page of `T` nodes.
pub type Connection<T> = connection::Connection<String, T>;

/// A read-model page as a GraphQL connection, each row made a node.
pub fn connection<R, T: OutputType>(
    page: rm::Connection<R>,
    node: impl Fn(R) -> T,
) -> Connection<T> {
    let mut out = Connection::new(false, page.page_info.has_next_page);
    out.edges.extend(
        page.edges
            .into_iter()
            .map(|e| Edge::new(e.cursor, node(e.node))),
    );
    out
}

/// The read-model page of `first` rows after `after`.
pub fn page(first: Option<i32>, after: Option<String>) -> rm::Page {
    rm::Page {
        first: first.unwrap_or(DEFAULT_FIRST).into(),
        after,
    }
}
