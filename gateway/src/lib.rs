//! deedlog's GraphQL gateway: the one public surface. Queries read the read
//! models in a transaction bound to the caller's tenant (row-level security
//! does the filtering); mutations send commands to the command services over
//! gRPC with the caller's token; subscriptions push the tenant's activity.
//! It links neither the event store nor any domain crate.

pub mod app;
pub mod error;
pub mod http;
pub mod metrics;
pub mod rate_limit;
pub mod schema;
pub mod services;
pub mod subscription;
pub mod viewer;
pub mod webhooks;

pub use app::Gateway;
pub use schema::{sdl, DeedlogSchema};
