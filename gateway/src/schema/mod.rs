//! The GraphQL schema: queries over the read models, mutations as commands,
//! subscriptions to the tenant's activity.

pub mod analytics;
pub mod audit;
pub mod board;
pub mod communications;
pub mod contact_export;
#[cfg(test)]
mod contract;
pub mod deals;
pub mod enums;
pub mod inbox;
pub mod loaders;
pub mod mutation;
pub mod notifications;
pub mod page;
pub mod properties;
pub mod reads;
pub mod scenarios;
pub mod tenancy;

use crate::error::{bad_input, internal};
use crate::subscription::Subscription;
use async_graphql::{Context, MergedObject, Object, Result, Schema, SchemaBuilder};
use deedlog_read_model::{Int64, Projection};

/// The schema type the gateway serves.
pub type DeedlogSchema = Schema<Query, mutation::Mutation, Subscription>;

#[derive(Debug, Default, MergedObject)]
pub struct Query(
    ReadYourWrites,
    properties::PropertiesQuery,
    deals::DealsQuery,
    board::BoardQuery,
    communications::CommunicationsQuery,
    inbox::InboxQuery,
    tenancy::TenancyQuery,
    analytics::AnalyticsQuery,
    audit::AuditQuery,
    contact_export::ContactExportQuery,
    notifications::NotificationsQuery,
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
        #[graphql(validator(custom = "NonNegative(\"position\")"))] position: Int64,
        timeout_ms: Option<u32>,
    ) -> Result<Query> {
        crate::viewer::viewer(ctx)?;
        let position = log_position("position", position)?;
        reads::wait_for(ctx, &Projection::ALL, position, timeout_ms).await?;
        Ok(Query::default())
    }
}

/// The validator of an `Int64` argument that is a log position or version:
/// 0 or more; a negative one is BAD_USER_INPUT naming the argument (its
/// path, e.g. `command.expectedVersion`).
#[derive(Debug, Clone, Copy)]
pub struct NonNegative(pub &'static str);

impl async_graphql::CustomValidator<Int64> for NonNegative {
    fn check(
        &self,
        value: &Int64,
    ) -> std::result::Result<(), async_graphql::InputValueError<Int64>> {
        if value.0 < 0 {
            return Err(async_graphql::InputValueError::custom(format!(
                "{}: a log position or version is 0 or more, not {value}",
                self.0
            )));
        }
        Ok(())
    }
}

/// A log position or version argument as the services and the read models
/// take it (`u64`); negative is BAD_USER_INPUT naming `argument`.
pub fn log_position(argument: &str, value: Int64) -> Result<u64> {
    u64::try_from(value.0).map_err(|_| {
        bad_input(format!(
            "{argument}: a log position or version is 0 or more, not {value}"
        ))
    })
}

/// A version or log position from a service's reply (`u64`) as the API's
/// `Int64`. Positions and versions fit i64; one that does not is an internal
/// error that names the value and the overflow, never a clamped number.
pub fn int64(what: &str, value: u64) -> Result<Int64> {
    Int64::try_from(value).map_err(|e| {
        internal(
            "convert a service's reply",
            &format!("the {what} {value} {e}"),
        )
    })
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
mod int64_arguments {
    use super::*;

    /// The messages of the errors of `query` against the bare schema: the
    /// arguments are read before any resolver needs its data.
    async fn errors(query: &str, variables: serde_json::Value) -> Vec<String> {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        builder()
            .finish()
            .execute(request)
            .await
            .errors
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    const CREATE: &str = r#"mutation($p: Int64!, $v: Int64) {
      createProperty(
        command: {idempotencyKey: "0190a000-0000-7000-8000-000000000000", expectedVersion: $v}
        input: {address: {street: "a", postalCode: "1", city: "B", country: "DE"},
                kind: APARTMENT, askingPrice: {amountMinor: $p, currency: "EUR"}}
      ) { version }
    }"#;

    #[tokio::test]
    async fn refused_int64_arguments_are_named() {
        for position in [r#""12.5""#, r#""abc""#, "12.5", r#"" 12""#] {
            let query = format!("{{ atLeast(position: {position}) {{ __typename }} }}");
            assert_eq!(
                errors(&query, serde_json::json!({})).await,
                [r#"Invalid value for argument "position", expected type "Int64""#],
                "{position}"
            );
        }
        for price in [serde_json::json!("12.5"), serde_json::json!("abc")] {
            assert_eq!(
                errors(CREATE, serde_json::json!({"p": price})).await,
                [
                    r#"Invalid value for argument "input.askingPrice.amountMinor", expected type "Int64""#
                ],
                "{price}"
            );
        }
    }

    #[tokio::test]
    async fn negative_positions_and_versions_are_refused_naming_the_argument() {
        let at = errors(
            r#"{ atLeast(position: "-3") { __typename } }"#,
            serde_json::json!({}),
        )
        .await;
        assert_eq!(at.len(), 1, "{at:?}");
        assert!(
            at[0].contains("position: a log position or version is 0 or more, not -3"),
            "{at:?}"
        );
        let create = errors(CREATE, serde_json::json!({"p": 5, "v": -1})).await;
        assert_eq!(create.len(), 1, "{create:?}");
        assert!(
            create[0].contains(
                "command.expectedVersion: a log position or version is 0 or more, not -1"
            ),
            "{create:?}"
        );
    }

    #[test]
    fn service_values_beyond_i64_are_an_error_naming_the_overflow() {
        assert_eq!(int64("version", 7).ok(), Some(Int64(7)));
        let error = int64("log position", u64::MAX).expect_err("beyond i64");
        assert!(
            error.message.contains("internal error"),
            "{}",
            error.message
        );
    }
}
