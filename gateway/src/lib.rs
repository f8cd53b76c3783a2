//! deedlog's GraphQL gateway: the one public surface. Queries read the read
//! models in a transaction bound to the caller's tenant (row-level security
//! does the filtering); mutations send commands to the command services over
//! gRPC with the caller's token; subscriptions push the tenant's activity.
//! It links neither the event store nor any domain crate.

pub mod app;
mod body;
pub mod checkpoints;
pub mod error;
pub mod graphiql;
pub mod http;
pub mod jwks;
pub mod metrics;
pub mod rate_limit;
pub mod response_cache;
pub mod roster;
pub mod schema;
pub mod services;
pub mod subscription;
pub mod tokens;
pub mod viewer;
pub mod webhooks;

pub use app::Gateway;
pub use schema::{sdl, DeedlogSchema};

#[cfg(test)]
mod tests {
    /// `gateway/schema.graphql` is what clients build against: it must be
    /// the schema the code serves. `DEEDLOG_BLESS=1 cargo test -p
    /// deedlog-gateway committed_schema` rewrites it after a deliberate change.
    #[test]
    fn committed_schema_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let current = super::sdl();
        if std::env::var_os("DEEDLOG_BLESS").is_some() {
            std::fs::write(path, &current).expect("write gateway/schema.graphql");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "gateway/schema.graphql differs from the schema the code serves; review the \
             change and rewrite it with `DEEDLOG_BLESS=1 cargo test -p deedlog-gateway \
             committed_schema`"
        );
    }
}
