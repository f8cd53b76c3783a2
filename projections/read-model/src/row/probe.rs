//! What a row type's fields are, read from its `Deserialize` derive: the
//! names and the shapes serde asks for. The row type is the one place a
//! table's columns are written; its column list and the check against the
//! DDL come from here.
//!
//! Each field is probed on its own: a map with that one key is offered to
//! the derived visitor, and the value's deserializer records what the field
//! asked for (`i64`, a string, an option of …) and stops there.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::fmt;

/// The shape of a field as serde sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bool,
    I16,
    I32,
    I64,
    F64,
    /// A string: text, and types written as text (uuid, timestamps, dates).
    Text,
    /// A sequence: a PostgreSQL array.
    Array,
    /// Anything else (`serde_json::Value`, maps): json or jsonb.
    Json,
}

/// One field of a row type: its column name, shape and whether it is an
/// `Option` (the column may be NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub nullable: bool,
}

/// The fields of `T`, in declaration order. Panics if `T` is not a plain
/// struct (a row type is one; anything else is a programming error).
pub fn fields<T: DeserializeOwned>() -> Vec<Field> {
    let names = match T::deserialize(Names) {
        Err(Stop::Names(names)) => names,
        _ => panic!("a row type is a struct with named fields"),
    };
    names
        .iter()
        .map(|&name| {
            let mut nullable = false;
            match T::deserialize(OneField {
                name,
                nullable: &mut nullable,
            }) {
                Err(Stop::Shape(shape)) => Field {
                    name,
                    shape,
                    nullable,
                },
                _ => panic!("field {name} of a row type has a shape serde can name"),
            }
        })
        .collect()
}

/// Why probing stopped; never shown to anyone.
#[derive(Debug)]
enum Stop {
    Names(&'static [&'static str]),
    Shape(Shape),
    /// Anything else a derive may report (a missing field, a bad type).
    Other,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop::Other
    }
}

/// Answers only `deserialize_struct`, with its field names.
struct Names;

impl<'de> de::Deserializer<'de> for Names {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop::Other)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(Stop::Names(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A struct of one field, `name`, whose value is a [`Value`] probe.
struct OneField<'a> {
    name: &'static str,
    nullable: &'a mut bool,
}

impl<'de> de::Deserializer<'de> for OneField<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl<'de> MapAccess<'de> for OneField<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        let key: de::value::StrDeserializer<'_, Stop> = self.name.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Stop> {
        seed.deserialize(Value {
            nullable: self.nullable,
        })
    }
}

/// `Deserializer` methods that each record one [`Shape`] and stop (in the
/// manner of `serde::forward_to_deserialize_any!`).
macro_rules! stop_at {
    ($($method:ident => $shape:ident),+ $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop::Shape(Shape::$shape))
            }
        )+
    };
}

/// Records the shape a field asks for, then stops.
struct Value<'a> {
    nullable: &'a mut bool,
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Stop;

    stop_at! {
        deserialize_any => Json,
        deserialize_bool => Bool,
        deserialize_i16 => I16,
        deserialize_i32 => I32,
        deserialize_i64 => I64,
        deserialize_f64 => F64,
        deserialize_str => Text,
        deserialize_string => Text,
        deserialize_seq => Array,
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        *self.nullable = true;
        visitor.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i8 i128 u8 u16 u32 u64 u128 f32 char bytes byte_buf unit unit_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        id: uuid::Uuid,
        count: Option<i32>,
        big: crate::Int64,
        tags: Vec<String>,
        extra: Option<serde_json::Value>,
        at: chrono::DateTime<chrono::Utc>,
    }

    #[test]
    fn fields_are_read_from_the_deserialize_derive_with_shapes_and_nullability() {
        let field = |name, shape, nullable| Field {
            name,
            shape,
            nullable,
        };
        assert_eq!(
            fields::<Sample>(),
            vec![
                field("id", Shape::Text, false),
                field("count", Shape::I32, true),
                field("big", Shape::I64, false),
                field("tags", Shape::Array, false),
                field("extra", Shape::Json, true),
                field("at", Shape::Text, false),
            ]
        );
    }
}
