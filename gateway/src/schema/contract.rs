//! The contract between the hand-shaped GraphQL schema (ADR 0013) and the
//! services' protos, read from the compiled descriptor set
//! ([`deedlog_proto::FILE_DESCRIPTOR_SET`]) and the schema's SDL: every
//! command RPC has a mutation, every field of its request can be given
//! through the mutation's arguments (at the path a field violation names in
//! `extensions.field`, [`graphql_path`]), and every proto enum has one
//! GraphQL enum with the same values.

use super::sdl;
use crate::error::graphql_path;
use async_graphql::parser::types::{BaseType, Type, TypeKind};
use async_graphql::{Name, Value};
use prost::Message;
use prost_types::field_descriptor_proto::Type as FieldType;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use std::collections::{BTreeMap, BTreeSet};

/// Request fields no mutation takes, each with a comment saying why:
/// (RPC, request path).
const NOT_IN_GRAPHQL: [(&str, &str); 1] = [
    // The gateway names the viewer: through GraphQL a user marks only
    // their own notifications (ADR 0038).
    ("MarkNotificationsRead", "user_id"),
];

/// Proto enums no mutation takes (they appear only in replies, which the
/// gateway reads from the read models instead).
const ONLY_IN_REPLIES: [&str; 1] = [".deedlog.tenancy.v1.UserStatus"];

/// The protos' messages, enums and RPCs by full name (`.package.Name`).
struct Protos {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, EnumDescriptorProto>,
    /// (RPC name, request message) of every service.
    rpcs: Vec<(String, String)>,
}

impl Protos {
    fn read() -> Self {
        let set = FileDescriptorSet::decode(deedlog_proto::FILE_DESCRIPTOR_SET)
            .expect("the build writes a valid descriptor set");
        let mut protos = Protos {
            messages: BTreeMap::new(),
            enums: BTreeMap::new(),
            rpcs: Vec::new(),
        };
        for file in set.file {
            let package = file.package().to_owned();
            for message in file.message_type {
                protos
                    .messages
                    .insert(format!(".{package}.{}", message.name()), message);
            }
            for en in file.enum_type {
                protos.enums.insert(format!(".{package}.{}", en.name()), en);
            }
            for service in &file.service {
                for method in &service.method {
                    protos
                        .rpcs
                        .push((method.name().to_owned(), method.input_type().to_owned()));
                }
            }
        }
        protos
    }

    /// The RPCs that change something: all but the reads (`Get…`).
    fn commands(&self) -> impl Iterator<Item = &(String, String)> {
        self.rpcs.iter().filter(|(rpc, _)| !rpc.starts_with("Get"))
    }
}

/// The GraphQL schema's mutations (arguments by name and type) and its
/// input objects and enums.
struct Graphql {
    mutations: BTreeMap<String, BTreeMap<String, String>>,
    inputs: BTreeMap<String, BTreeMap<String, String>>,
    enums: BTreeMap<String, BTreeSet<String>>,
}

impl Graphql {
    fn read() -> Self {
        let document = async_graphql::parser::parse_schema(sdl()).expect("the SDL parses");
        let mut graphql = Graphql {
            mutations: BTreeMap::new(),
            inputs: BTreeMap::new(),
            enums: BTreeMap::new(),
        };
        for definition in document.definitions {
            let async_graphql::parser::types::TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let name = ty.name.node.to_string();
            match ty.kind {
                TypeKind::Object(object) if name == "Mutation" => {
                    for field in object.fields {
                        let arguments = field
                            .node
                            .arguments
                            .iter()
                            .map(|a| (a.node.name.node.to_string(), named(&a.node.ty.node)))
                            .collect();
                        graphql
                            .mutations
                            .insert(field.node.name.node.to_string(), arguments);
                    }
                }
                TypeKind::InputObject(input) => {
                    let fields = input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), named(&f.node.ty.node)))
                        .collect();
                    graphql.inputs.insert(name, fields);
                }
                TypeKind::Enum(en) => {
                    let values = en.values.iter().map(|v| v.node.value.node.to_string());
                    graphql.enums.insert(name, values.collect());
                }
                _ => {}
            }
        }
        graphql
    }
}

impl Graphql {
    /// The type at an argument path (`input.offer.amountMinor`) of a
    /// mutation with these arguments, if it has one.
    fn type_at<'a>(
        &'a self,
        arguments: &'a BTreeMap<String, String>,
        path: &str,
    ) -> Option<&'a String> {
        let mut segments = path.split('.');
        let mut ty = arguments.get(segments.next()?)?;
        for segment in segments {
            ty = self.inputs.get(ty)?.get(segment)?;
        }
        Some(ty)
    }
}

/// The named type inside lists and non-nulls (`[CostInput!]` is `CostInput`).
fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

/// `CreateProperty` → `createProperty`.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `LawfulBasis` → `LAWFUL_BASIS_`, the prefix of its values.
fn value_prefix(enum_name: &str) -> String {
    let mut out = String::new();
    for (i, c) in enum_name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out + "_"
}

/// What walking the requests found.
#[derive(Default)]
struct Walk {
    /// How many request fields were compared.
    compared: usize,
    /// Request fields the GraphQL input does not reach: the RPC, the
    /// request path and the GraphQL path it was looked for at.
    unreachable: Vec<String>,
    /// Each proto enum a request takes, with the GraphQL types given for it.
    enum_pairs: BTreeMap<String, BTreeSet<String>>,
}

/// One mutation: its arguments' types, and its arguments as a request
/// giving every field of every input object would carry them (what
/// [`graphql_path`] looks a field up in).
struct Mutation<'a> {
    types: &'a BTreeMap<String, String>,
    values: Vec<(Name, Value)>,
}

impl Walk {
    /// Looks up each field of `message` (at `prefix` in the request) at the
    /// GraphQL path a field violation on it would name, descending into
    /// messages given as input objects.
    fn compare(
        &mut self,
        protos: &Protos,
        graphql: &Graphql,
        (rpc, mutation): (&str, &Mutation<'_>),
        prefix: &str,
        message: &str,
    ) {
        for field in &protos.messages[message].field {
            let path = format!("{prefix}{}", field.name());
            if NOT_IN_GRAPHQL.contains(&(rpc, path.as_str())) {
                continue;
            }
            self.compared += 1;
            let at = graphql_path(&path, &mutation.values);
            let Some(ty) = graphql.type_at(mutation.types, &at) else {
                self.unreachable
                    .push(format!("{rpc}: {path} (looked for at {at})"));
                continue;
            };
            match field.r#type() {
                // A scalar (a date) stands for the whole message.
                FieldType::Message if graphql.inputs.contains_key(ty) => {
                    let prefix = format!("{path}.");
                    self.compare(protos, graphql, (rpc, mutation), &prefix, field.type_name());
                }
                FieldType::Enum => {
                    self.enum_pairs
                        .entry(field.type_name().to_owned())
                        .or_default()
                        .insert(ty.clone());
                }
                _ => {}
            }
        }
    }
}

/// Walks every command's request against its mutation's arguments.
fn walk(protos: &Protos, graphql: &Graphql) -> Walk {
    let mut walk = Walk::default();
    for (rpc, request) in protos.commands() {
        let Some(types) = graphql.mutations.get(&lower_first(rpc)) else {
            continue;
        };
        let values = types
            .iter()
            .map(|(argument, ty)| {
                let value = match graphql.inputs.get(ty) {
                    Some(fields) => {
                        Value::Object(fields.keys().map(|f| (Name::new(f), Value::Null)).collect())
                    }
                    None => Value::Null,
                };
                (Name::new(argument), value)
            })
            .collect();
        let mutation = Mutation { types, values };
        walk.compare(protos, graphql, (rpc, &mutation), "", request);
    }
    walk
}

#[test]
fn every_command_rpc_has_a_mutation() {
    let protos = Protos::read();
    let graphql = Graphql::read();
    assert!(protos.commands().count() > 40, "read too few RPCs");
    let missing: Vec<&str> = protos
        .commands()
        .map(|(rpc, _)| rpc.as_str())
        .filter(|rpc| !graphql.mutations.contains_key(&lower_first(rpc)))
        .collect();
    assert!(missing.is_empty(), "RPCs without a mutation: {missing:?}");
}

#[test]
fn every_request_field_of_a_command_can_be_given_in_graphql() {
    let walk = walk(&Protos::read(), &Graphql::read());
    assert!(walk.compared > 200, "compared too few fields");
    assert!(
        walk.unreachable.is_empty(),
        "request fields no mutation takes at the path a field violation \
         names (add them to the mutation, or to NOT_IN_GRAPHQL with the \
         reason): {:#?}",
        walk.unreachable
    );
}

#[test]
fn every_proto_enum_has_one_graphql_enum_with_its_values() {
    let protos = Protos::read();
    let graphql = Graphql::read();
    let walk = walk(&protos, &graphql);
    let mut problems = Vec::new();
    for (proto, en) in &protos.enums {
        if ONLY_IN_REPLIES.contains(&proto.as_str()) {
            continue;
        }
        let Some(types) = walk.enum_pairs.get(proto) else {
            problems.push(format!("{proto}: no mutation takes it"));
            continue;
        };
        let Some(ty) = types.first().filter(|_| types.len() == 1) else {
            problems.push(format!("{proto} has more than one GraphQL enum: {types:?}"));
            continue;
        };
        let prefix = value_prefix(en.name());
        let values: BTreeSet<String> = en
            .value
            .iter()
            .filter(|v| v.number() != 0)
            .map(|v| {
                v.name()
                    .strip_prefix(&prefix)
                    .unwrap_or(v.name())
                    .to_owned()
            })
            .collect();
        match graphql.enums.get(ty) {
            Some(graphql_values) if *graphql_values == values => {}
            Some(graphql_values) => problems.push(format!(
                "{proto} has {values:?}, the GraphQL enum {ty} has {graphql_values:?}"
            )),
            None => problems.push(format!("{proto} is given as {ty}, not a GraphQL enum")),
        }
    }
    assert!(protos.enums.len() >= 10, "read too few enums");
    assert!(problems.is_empty(), "{problems:#?}");
}
