//! The GraphQL schema: queries over the read models, mutations as commands,
//! subscriptions to the tenant's activity.

pub mod analytics;
pub mod audit;
pub mod communications;
pub mod deals;
pub mod loaders;
pub mod mutation;
pub mod page;
pub mod properties;
pub mod reads;
pub mod tenancy;

use crate::subscription::Subscription;
use async_graphql::{Context, MergedObject, Object, Result, Schema, SchemaBuilder};
use deedlog_read_model::Projection;

/// The schema type the gateway serves.
pub type DeedlogSchema = Schema<Query, mutation::Mutation, Subscription>;

#[derive(Debug, Default, MergedObject)]
pub struct Query(
    ReadYourWrites,
    properties::PropertiesQuery,
    deals::DealsQuery,
    communications::CommunicationsQuery,
    tenancy::TenancyQuery,
    analytics::AnalyticsQuery,
    audit::AuditQuery,
);

/// Reading one's own writes: `atLeast(position: …) { … }` runs the nested
/// queries once every read model has reached the position a mutation returned.
#[derive(Debug, Default)]
pub struct ReadYourWrites;

#[Object]
impl ReadYourWrites {
    /// Waits until every read model has applied the log up to `position`
    /// (at most `timeoutMs`, bounded by the gateway's maximum), then answers
    /// the nested queries. Fails with `extensions.reason` READ_MODEL_BEHIND
    /// when the time runs out.
    async fn at_least(
        &self,
        ctx: &Context<'_>,
        position: u64,
        timeout_ms: Option<u32>,
    ) -> Result<Query> {
        crate::viewer::viewer(ctx)?;
        reads::wait_for(ctx, &Projection::ALL, position, timeout_ms).await?;
        Ok(Query::default())
    }
}

/// The schema without its per-process data (for the SDL and for tests).
pub fn builder() -> SchemaBuilder<Query, mutation::Mutation, Subscription> {
    Schema::build(
        Query::default(),
        mutation::Mutation::default(),
        Subscription,
    )
}

/// The schema as SDL, as committed in `gateway/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
