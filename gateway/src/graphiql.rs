//! GraphiQL for development, entirely from files the binary carries (ADR
//! 0019): our page at `GET /graphql`, and React, ReactDOM and GraphiQL under
//! `/graphiql/assets/<package>-<version>/<file>`, copied from their npm
//! packages into `gateway/vendor/graphiql/` (its README says how to
//! refresh them). Nothing is loaded from another host, so GraphiQL works
//! offline and no CDN sees who develops against deedlog.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

/// The page: GraphiQL against `/graphql`, subscriptions on `/graphql/ws`.
pub const PAGE: &str = include_str!("graphiql.html");

/// A file the page loads.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served; the package version is part of it, so a
    /// browser may keep it for good.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A vendored file, served under the path it has in `vendor/graphiql/`,
/// so the URL and the file cannot disagree.
macro_rules! vendored {
    ($file:literal, $content_type:expr) => {
        Asset {
            path: concat!("/graphiql/assets/", $file),
            content_type: $content_type,
            body: include_bytes!(concat!("../vendor/graphiql/", $file)),
        }
    };
}

/// Every file the page loads.
pub const ASSETS: [Asset; 4] = [
    vendored!("react-18.3.1/react.production.min.js", JAVASCRIPT),
    vendored!("react-dom-18.3.1/react-dom.production.min.js", JAVASCRIPT),
    vendored!("graphiql-4.0.3/graphiql.min.js", JAVASCRIPT),
    vendored!("graphiql-4.0.3/graphiql.min.css", CSS),
];

/// The page, fetched again on each visit so an upgrade's new asset paths
/// are seen at once.
pub fn page() -> Response {
    ([(CACHE_CONTROL, "no-cache")], Html(PAGE)).into_response()
}

impl Asset {
    /// The file, cacheable for a year: its path changes with its version.
    pub fn response(&'static self) -> Response {
        (
            [
                (CONTENT_TYPE, self.content_type),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            self.body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of `attribute="…"` in the page.
    fn attributes<'a>(page: &'a str, attribute: &str) -> Vec<&'a str> {
        let opening = format!(" {attribute}=\"");
        page.split(opening.as_str())
            .skip(1)
            .map(|rest| rest.split('"').next().expect("a quoted value ends"))
            .collect()
    }

    #[test]
    fn the_page_names_no_other_host() {
        for scheme in ["http://", "https://", "ws://", "wss://", "\"//", "'//"] {
            assert!(!PAGE.contains(scheme), "the page contains {scheme}");
        }
    }

    #[test]
    fn every_file_the_page_loads_is_served_and_every_served_file_is_loaded() {
        let mut loaded: Vec<&str> = attributes(PAGE, "src");
        loaded.extend(attributes(PAGE, "href"));
        // The empty icon keeps the browser from asking for /favicon.ico.
        loaded.retain(|url| *url != "data:,");
        let mut served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        loaded.sort_unstable();
        served.sort_unstable();
        assert_eq!(loaded, served);
    }

    /// The page asks introspection for four levels of type references
    /// (see `TYPE_REF` in the page): enough for `[T!]!`, not for a list
    /// of lists.
    #[test]
    fn the_pages_introspection_reaches_every_type_reference() {
        assert!(PAGE.contains("fragment TypeRef on __Type"));
        assert!(
            !crate::sdl().contains("[["),
            "a list of lists needs a deeper TypeRef in gateway/src/graphiql.html"
        );
    }

    #[test]
    fn the_assets_are_the_packages_files() {
        let readme = include_str!("../vendor/graphiql/README.md");
        for asset in &ASSETS {
            assert!(asset.body.len() > 1000, "{} is empty", asset.path);
            let expected = if asset.path.ends_with(".css") {
                CSS
            } else {
                JAVASCRIPT
            };
            assert_eq!(asset.content_type, expected, "{}", asset.path);
            // The README lists every file with its version, for the refresh.
            let file = asset
                .path
                .strip_prefix("/graphiql/assets/")
                .expect("assets are under /graphiql/assets/");
            assert!(readme.contains(file), "README.md does not list {file}");
        }
    }
}
