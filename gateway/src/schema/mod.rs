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

#[cfg(test)]
mod tests {
    use super::*;

    /// The services' protos, read when the test is compiled.
    const PROTOS: [&str; 4] = [
        include_str!("../../../proto/deedlog/properties/v1/properties.proto"),
        include_str!("../../../proto/deedlog/deals/v1/deals.proto"),
        include_str!("../../../proto/deedlog/communications/v1/communications.proto"),
        include_str!("../../../proto/deedlog/tenancy/v1/tenancy.proto"),
    ];

    /// RPCs that are not commands: the session's (served by `SessionMutation`)
    /// and the reads (served from the read models).
    const NOT_MUTATIONS: [&str; 7] = [
        "Login",
        "Refresh",
        "Logout",
        "GetTenant",
        "GetUser",
        "GetSigningKeys",
        "GetAsOf",
    ];

    /// The names of the RPCs declared in a proto (`rpc Name(…) returns …`).
    fn rpcs(proto: &str) -> impl Iterator<Item = &str> + '_ {
        proto.lines().filter_map(|line| {
            let rest = line.trim_start().strip_prefix("rpc ")?;
            rest.split('(').next().map(str::trim)
        })
    }

    fn lower_camel(name: &str) -> String {
        let mut chars = name.chars();
        chars
            .next()
            .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }

    /// The fields of the SDL's `type Mutation { … }`: its lines indented
    /// once, without the descriptions (`"""` blocks and `"…"` lines).
    fn mutation_fields(sdl: &str) -> Vec<String> {
        let body = sdl
            .split("type Mutation {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("the SDL has a Mutation type");
        body.split("\"\"\"")
            .step_by(2)
            .flat_map(str::lines)
            .filter_map(|line| line.strip_prefix('\t'))
            .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|line| line.split(['(', ':']).next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_command_rpc_has_a_mutation() {
        let fields = mutation_fields(&sdl());
        let rpcs: Vec<&str> = PROTOS.iter().flat_map(|proto| rpcs(proto)).collect();
        assert!(rpcs.len() > 40, "read too few rpcs: {rpcs:?}");
        assert!(
            fields.iter().any(|f| f == "login"),
            "read no fields: {fields:?}"
        );
        let missing: Vec<String> = rpcs
            .iter()
            .filter(|rpc| !NOT_MUTATIONS.contains(rpc))
            .map(|rpc| lower_camel(rpc))
            .filter(|name| !fields.contains(name))
            .collect();
        assert!(missing.is_empty(), "RPCs without a mutation: {missing:?}");
    }
}
