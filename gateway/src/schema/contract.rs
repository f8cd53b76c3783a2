//! The contract between the hand-shaped GraphQL schema (ADR 0013) and the
//! services' protos, read from the compiled descriptor set
//! ([`deedlog_proto::FILE_DESCRIPTOR_SET`]) and the schema's SDL: every
//! command RPC has a mutation, every field of its request can be given
//! through the mutation's arguments, and every proto enum has one GraphQL
//! enum with the same values.

use super::sdl;
use async_graphql::parser::types::{BaseType, Type, TypeKind};
use prost::Message;
use prost_types::field_descriptor_proto::Type as FieldType;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use std::collections::{BTreeMap, BTreeSet};

/// Request fields the GraphQL input carries under another name:
/// (message, proto field, GraphQL field).
const RENAMED: [(&str, &str, &str); 1] = [
    // The command envelope's id is the client's idempotency key.
    (
        ".deedlog.common.v1.CommandOptions",
        "command_id",
        "idempotencyKey",
    ),
];

/// Request fields no mutation takes, each with a comment saying why:
/// (message, proto field). None today.
const NOT_IN_GRAPHQL: [(&str, &str); 0] = [];

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

/// The named type inside lists and non-nulls (`[CostInput!]` is `CostInput`).
fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

/// `living_area_m2` → `livingAreaM2`, as async-graphql names fields.
fn lower_camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
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
    /// Request fields the GraphQL input does not reach, by path.
    unreachable: Vec<String>,
    /// Each proto enum a request takes, with the GraphQL types given for it.
    enum_pairs: BTreeMap<String, BTreeSet<String>>,
}

impl Walk {
    /// Compares a message's fields with the GraphQL fields (or arguments)
    /// given for it, descending into input objects.
    fn compare(
        &mut self,
        protos: &Protos,
        graphql: &Graphql,
        path: &str,
        message: &str,
        fields: &BTreeMap<String, String>,
    ) {
        let descriptor = &protos.messages[message];
        for field in &descriptor.field {
            if NOT_IN_GRAPHQL.contains(&(message, field.name())) {
                continue;
            }
            let name = RENAMED
                .iter()
                .find(|(m, f, _)| *m == message && *f == field.name())
                .map_or_else(|| lower_camel(field.name()), |(_, _, g)| (*g).to_owned());
            let at = format!("{path}.{}", field.name());
            self.compared += 1;
            let Some(ty) = fields.get(&name) else {
                self.unreachable.push(at);
                continue;
            };
            match field.r#type() {
                FieldType::Message => {
                    // A scalar (a date) stands for the whole message.
                    if let Some(input) = graphql.inputs.get(ty) {
                        self.compare(protos, graphql, &at, field.type_name(), input);
                    }
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

/// Walks every command's request against its mutation's arguments. An
/// argument that names no field of the request (`input`, `scenario`) is an
/// envelope: its fields stand for the request's.
fn walk(protos: &Protos, graphql: &Graphql) -> Walk {
    let mut walk = Walk::default();
    for (rpc, request) in protos.commands() {
        let Some(arguments) = graphql.mutations.get(&lower_first(rpc)) else {
            continue;
        };
        let proto_fields: BTreeSet<String> = protos.messages[request]
            .field
            .iter()
            .map(|f| lower_camel(f.name()))
            .collect();
        let mut given = BTreeMap::new();
        for (argument, ty) in arguments {
            match graphql.inputs.get(ty) {
                Some(envelope) if !proto_fields.contains(argument) => {
                    given.extend(envelope.clone())
                }
                _ => {
                    given.insert(argument.clone(), ty.clone());
                }
            }
        }
        walk.compare(protos, graphql, rpc, request, &given);
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
        "request fields no mutation takes (add them to the mutation, or to \
         NOT_IN_GRAPHQL with the reason): {:?}",
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
