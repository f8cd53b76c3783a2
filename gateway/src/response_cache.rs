//! Query responses kept until a read model changes (ADR 0041).
//!
//! A read model changes only in a transaction that announces it
//! ([`crate::checkpoints`]), so an answer computed from the read models is
//! still the answer for as long as none of them has announced a change.
//! An entry is keyed by who asks (tenant, user, current role), what they
//! ask (document, operation, variables) and the version of the read
//! models' state heard of when the request arrived: any change makes every
//! older key unreachable, and the bounded cache evicts them in time.
//!
//! Only queries whose root fields all read read models are kept
//! ([`READ_MODEL_FIELDS`]); never a mutation, a subscription, a read of
//! the log or of the services (audit, as-of, export, proofs), a response
//! with errors, or a read-your-writes read the known checkpoints have not
//! yet reached. A miss is kept only if no change was heard of while it ran,
//! so an answer is never filed under a state older than the one it read.

use crate::checkpoints::{Checkpoints, Known};
use crate::viewer::Viewer;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Value};
use axum::body::Bytes;
use deedlog_kernel::Role;
use std::sync::Arc;
use uuid::Uuid;

/// The root query fields whose answers come from the read models alone
/// and depend on nothing else but the caller (no clock, no log, no
/// service). Every other root field makes a request bypass the cache; a
/// test holds this list and [`OTHER_FIELDS`] to the schema.
pub const READ_MODEL_FIELDS: &[&str] = &[
    "__typename",
    "properties",
    "property",
    "pipeline",
    "deal",
    "deals",
    "board",
    "contact",
    "contacts",
    "suppressions",
    "conversations",
    "tenant",
    "modules",
    "users",
    "me",
    "pipelineOn",
    "pipelineSeries",
    "funnel",
    "leaderboard",
    "priceChanges",
    "messagesByWeek",
    "notifications",
    "unreadNotificationCount",
];

/// Root query fields never kept, and why: `auditProof` reads the log and
/// its seals, `auditEvents` the log, `asOf` the services, `contactExport`
/// the log and the clock, `reconciliationRuns` the projector's own table.
/// `atLeast` is kept once the known checkpoints reached its position (its
/// nested fields are classified like root fields).
pub const OTHER_FIELDS: &[&str] = &[
    "atLeast",
    "auditProof",
    "auditEvents",
    "asOf",
    "contactExport",
    "reconciliationRuns",
];

/// Most documents whose plan is remembered.
const PLANS: usize = 1_000;

/// What a request's key is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    version: u64,
    tenant: Uuid,
    user: Uuid,
    role: Role,
    query: String,
    operation: Option<String>,
    variables: String,
}

/// Where a `position` argument of `atLeast` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    Literal(u64),
    Variable(Name),
}

/// Whether a document may be answered from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// A query of read-model fields only, maybe within `atLeast` reads.
    Cacheable {
        at_least: Vec<Position>,
    },
    Bypass,
}

/// What a look-up found.
#[derive(Debug)]
pub enum Lookup {
    /// The body of the answer kept.
    Hit(Bytes),
    /// None kept: run the request and offer its answer to [`ResponseCache::keep`].
    Miss(Key),
    /// Not for the cache: run the request and keep nothing.
    Bypass,
}

type Entries = quick_cache::sync::Cache<Key, Bytes, Weight>;

/// The cache, bounded in bytes.
#[derive(Debug)]
pub struct ResponseCache {
    entries: Option<Entries>,
    plans: quick_cache::sync::Cache<String, Arc<Plan>>,
    checkpoints: Checkpoints,
}

/// An entry's weight: its key's and its body's bytes.
#[derive(Debug, Clone, Copy)]
struct Weight;

impl quick_cache::Weighter<Key, Bytes> for Weight {
    fn weight(&self, key: &Key, body: &Bytes) -> u64 {
        // What the key, the body and the cache's bookkeeping take, roughly.
        (key.query.len() + key.variables.len() + body.len() + 160) as u64
    }
}

impl ResponseCache {
    /// A cache of at most `bytes` (0: off) keyed by `checkpoints`' state.
    pub fn new(bytes: u64, checkpoints: Checkpoints) -> Self {
        // Sized for answers of a few kilobytes; the weight is the bound.
        let items = usize::try_from(bytes / 4096).unwrap_or(usize::MAX).max(16);
        Self {
            entries: (bytes > 0).then(|| Entries::with_weighter(items, bytes, Weight)),
            plans: quick_cache::sync::Cache::new(PLANS),
            checkpoints,
        }
    }

    /// Looks `request` of `viewer` up.
    pub fn lookup(&self, request: &async_graphql::Request, viewer: &Viewer) -> Lookup {
        let Some(entries) = &self.entries else {
            return Lookup::Bypass;
        };
        // While the state is unknown nothing is served or kept.
        let Some(known) = self.checkpoints.now() else {
            return Lookup::Bypass;
        };
        if !request.extensions.is_empty() || !request.uploads.is_empty() {
            return Lookup::Bypass;
        }
        let plan = self.plan(&request.query);
        let Plan::Cacheable { at_least } = plan.as_ref() else {
            return Lookup::Bypass;
        };
        let variables = match request.variables.is_empty() {
            true => serde_json::Value::Null,
            false => match serde_json::to_value(&request.variables) {
                Ok(v) => v,
                Err(_) => return Lookup::Bypass,
            },
        };
        if !reached(&known, at_least, &variables) {
            return Lookup::Bypass;
        }
        let key = Key {
            version: known.version,
            tenant: viewer.caller.tenant.as_uuid(),
            user: viewer.caller.user.as_uuid(),
            role: viewer.caller.role,
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: match variables {
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            },
        };
        match entries.get(&key) {
            Some(body) => Lookup::Hit(body),
            None => Lookup::Miss(key),
        }
    }

    /// Keeps `body`, the serialised `response` to the request looked up as
    /// `key`, if it had no errors, sets no header, and no read model
    /// changed while it ran.
    pub fn keep(&self, key: Key, response: &async_graphql::Response, body: &Bytes) -> bool {
        let Some(entries) = &self.entries else {
            return false;
        };
        let unchanged = self
            .checkpoints
            .now()
            .is_some_and(|now| now.version == key.version);
        let plain = response.errors.is_empty()
            && response.http_headers.is_empty()
            && response.cache_control.value().is_none();
        if unchanged && plain {
            entries.insert(key, body.clone());
        }
        unchanged && plain
    }

    /// The document's plan, remembered per query text.
    fn plan(&self, query: &str) -> Arc<Plan> {
        if let Some(plan) = self.plans.get(query) {
            return plan;
        }
        let plan = Arc::new(plan_of(query));
        self.plans.insert(query.to_owned(), plan.clone());
        plan
    }
}

/// Whether the known checkpoints reached every `atLeast` position.
fn reached(known: &Known, at_least: &[Position], variables: &serde_json::Value) -> bool {
    at_least.iter().all(|p| {
        let position = match p {
            Position::Literal(n) => Some(*n),
            Position::Variable(name) => match variables.get(name.as_str()) {
                Some(serde_json::Value::String(s)) => s.parse().ok(),
                Some(serde_json::Value::Number(n)) => n.as_u64(),
                _ => None,
            },
        };
        position.is_some_and(|p| known.reached(&deedlog_read_model::Projection::ALL, p))
    })
}

/// Classifies a document: a single query operation whose root fields
/// (through fragments and `atLeast`) are all read-model fields.
fn plan_of(query: &str) -> Plan {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Plan::Bypass;
    };
    // A named operation comes as one of "multiple"; documents of several
    // operations are left to run.
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            match operations.values().next() {
                Some(operation) => operation,
                None => return Plan::Bypass,
            }
        }
        DocumentOperations::Multiple(_) => return Plan::Bypass,
    };
    if operation.node.ty != OperationType::Query {
        return Plan::Bypass;
    }
    let mut at_least = Vec::new();
    match classify(
        &document,
        &operation.node.selection_set.node,
        &mut at_least,
        0,
    ) {
        true => Plan::Cacheable { at_least },
        false => Plan::Bypass,
    }
}

/// Deepest nesting of fragments and `atLeast` looked through.
const DEPTH: usize = 8;

fn classify(
    document: &ExecutableDocument,
    set: &SelectionSet,
    at_least: &mut Vec<Position>,
    depth: usize,
) -> bool {
    if depth > DEPTH {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => {
            let field = &field.node;
            let name = field.name.node.as_str();
            if name != "atLeast" {
                return READ_MODEL_FIELDS.contains(&name);
            }
            let position = field
                .arguments
                .iter()
                .find(|(n, _)| n.node == "position")
                // A variable is the one value that does not resolve alone.
                .and_then(|(_, v)| match v.node.clone().into_const_with(Err) {
                    Err(name) => Some(Position::Variable(name)),
                    Ok(Value::String(s)) => s.parse().ok().map(Position::Literal),
                    Ok(Value::Number(n)) => n.as_u64().map(Position::Literal),
                    Ok(_) => None,
                });
            let Some(position) = position else {
                return false;
            };
            at_least.push(position);
            classify(document, &field.selection_set.node, at_least, depth + 1)
        }
        Selection::InlineFragment(fragment) => classify(
            document,
            &fragment.node.selection_set.node,
            at_least,
            depth + 1,
        ),
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| classify(document, &f.node.selection_set.node, at_least, depth + 1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cacheable(query: &str) -> bool {
        matches!(plan_of(query), Plan::Cacheable { .. })
    }

    #[test]
    fn queries_of_read_models_are_cacheable_and_nothing_else() {
        assert!(cacheable("{ properties(first: 2) { edges { cursor } } }"));
        assert!(cacheable("query Q { me { userId } pipeline { stage } }"));
        assert!(cacheable(
            "query { ...F } fragment F on Query { deals(first: 1) { edges { cursor } } }"
        ));
        assert!(cacheable("{ ... on Query { board { stage } } }"));
        for other in [
            "mutation { markNotificationsRead { position } }",
            "subscription { activity { position } }",
            "{ auditEvents { edges { cursor } } }",
            "{ properties(first: 1) { edges { cursor } } asOf(kind: DEAL, id: \"x\") { state } }",
            "{ contactExport(contactId: \"x\") }",
            "{ atLeast(position: 3) { auditProof(position: 3) } }",
            "query A { me { userId } } query B { me { userId } }",
            "{ ...Missing }",
            "{ unknownField }",
            "not graphql",
        ] {
            assert!(!cacheable(other), "{other}");
        }
    }

    #[test]
    fn at_least_positions_are_read_from_literals_and_variables() {
        assert_eq!(
            plan_of("query($p: Int64!) { atLeast(position: $p) { me { userId } } }"),
            Plan::Cacheable {
                at_least: vec![Position::Variable(Name::new("p"))]
            }
        );
        assert_eq!(
            plan_of(r#"{ atLeast(position: "12") { atLeast(position: 7) { me { userId } } } }"#),
            Plan::Cacheable {
                at_least: vec![Position::Literal(12), Position::Literal(7)]
            }
        );
        let known = Known {
            version: 1,
            positions: [10; deedlog_read_model::Projection::ALL.len()],
        };
        let vars = serde_json::json!({"p": "10", "q": 11});
        assert!(reached(
            &known,
            &[Position::Variable(Name::new("p"))],
            &vars
        ));
        assert!(!reached(
            &known,
            &[Position::Variable(Name::new("q"))],
            &vars
        ));
        assert!(!reached(
            &known,
            &[Position::Variable(Name::new("r"))],
            &vars
        ));
        assert!(!reached(&known, &[Position::Literal(12)], &vars));
    }

    /// Every root query field of the schema is classified: a new one must
    /// be put in one list or the other, deliberately.
    #[tokio::test]
    async fn every_root_field_is_classified() {
        let introspection = crate::schema::builder()
            .finish()
            .execute("{ __schema { queryType { fields { name } } } }")
            .await
            .data
            .into_json()
            .expect("introspection answers JSON");
        let fields: Vec<&str> = introspection["__schema"]["queryType"]["fields"]
            .as_array()
            .expect("a list of fields")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        assert!(fields.len() > 20, "{fields:?}");
        for field in &fields {
            assert!(
                READ_MODEL_FIELDS.contains(field) || OTHER_FIELDS.contains(field),
                "root field {field} is in neither READ_MODEL_FIELDS nor OTHER_FIELDS"
            );
        }
        for field in READ_MODEL_FIELDS.iter().chain(OTHER_FIELDS) {
            assert!(
                *field == "__typename" || fields.contains(field),
                "{field} is no root field"
            );
        }
    }
}
