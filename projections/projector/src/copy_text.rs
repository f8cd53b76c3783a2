//! Rows in PostgreSQL's COPY text format, from their JSON form: the fastest
//! way to load many rows (no JSON parsing in the server, no per-row
//! statement).

use serde_json::Value;

/// How a column takes a JSON array: as a PostgreSQL array (`text[]`,
/// `uuid[]`, …) or as JSON text (`json`, `jsonb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayAs {
    SqlArray,
    Json,
}

/// Appends one field to a COPY text line.
pub fn field(out: &mut String, value: &Value, arrays: ArrayAs) {
    match value {
        Value::Null => out.push_str("\\N"),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape(out, s),
        Value::Array(items) if arrays == ArrayAs::SqlArray => {
            let mut literal = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    literal.push(',');
                }
                match item {
                    Value::Null => literal.push_str("NULL"),
                    Value::String(s) => quote_element(&mut literal, s),
                    other => quote_element(&mut literal, &other.to_string()),
                }
            }
            literal.push('}');
            escape(out, &literal);
        }
        Value::Array(_) | Value::Object(_) => escape(out, &value.to_string()),
    }
}

/// A double-quoted array element, with `"` and `\` escaped.
fn quote_element(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// COPY text escaping: backslash, tab, newline and carriage return.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(value: Value, arrays: ArrayAs) -> String {
        let mut out = String::new();
        field(&mut out, &value, arrays);
        out
    }

    #[test]
    fn fields_are_written_as_copy_text_expects_them() {
        assert_eq!(one(json!(null), ArrayAs::Json), "\\N");
        assert_eq!(one(json!(true), ArrayAs::Json), "t");
        assert_eq!(one(json!(-12), ArrayAs::Json), "-12");
        assert_eq!(one(json!(52.5), ArrayAs::Json), "52.5");
        assert_eq!(
            one(json!("a\tb\nc\\d\re"), ArrayAs::Json),
            "a\\tb\\nc\\\\d\\re"
        );
        assert_eq!(
            one(json!(["x", "y \"z\"", null, "a\\b"]), ArrayAs::SqlArray),
            "{\"x\",\"y \\\\\"z\\\\\"\",NULL,\"a\\\\\\\\b\"}"
        );
        assert_eq!(one(json!([]), ArrayAs::SqlArray), "{}");
        assert_eq!(one(json!([1, "two"]), ArrayAs::Json), "[1,\"two\"]");
        assert_eq!(
            one(json!({"k": "v\tw"}), ArrayAs::Json),
            "{\"k\":\"v\\\\tw\"}"
        );
    }
}
