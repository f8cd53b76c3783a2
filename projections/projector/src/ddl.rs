//! Splitting a projection's DDL into its tables (with their keys) and its
//! secondary indexes: a rebuild loads the tables first and creates the
//! indexes once at the end, which is several times cheaper than keeping
//! them up to date row by row.

/// The statements of `sql`, split at semicolons outside comments, quoted
/// strings and dollar-quoted bodies.
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                // A comment runs to the end of the line; it is kept.
                current.push(c);
                for c in chars.by_ref() {
                    current.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                current.push(c);
                for c in chars.by_ref() {
                    current.push(c);
                    if c == '\'' {
                        break;
                    }
                }
            }
            '$' if chars.peek() == Some(&'$') => {
                current.push(c);
                current.push(chars.next().expect("peeked"));
                while let Some(c) = chars.next() {
                    current.push(c);
                    if c == '$' && chars.peek() == Some(&'$') {
                        current.push(chars.next().expect("peeked"));
                        break;
                    }
                }
            }
            ';' => {
                current.push(c);
                if !code_of(&current).is_empty() {
                    out.push(std::mem::take(&mut current));
                } else {
                    current.clear();
                }
            }
            _ => current.push(c),
        }
    }
    if !code_of(&current).is_empty() {
        out.push(current);
    }
    out
}

/// A statement without its comments, trimmed and upper-cased.
fn code_of(statement: &str) -> String {
    statement
        .lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_uppercase()
}

/// Whether `statement` creates a non-unique index: nothing depends on it
/// while a table is being loaded (unique ones enforce keys and stay).
fn is_secondary_index(statement: &str) -> bool {
    code_of(statement).starts_with("CREATE INDEX")
}

/// `ddl` without its secondary indexes, and those indexes.
pub fn split(ddl: &str) -> (String, Vec<String>) {
    let (indexes, tables): (Vec<String>, Vec<String>) = statements(ddl)
        .into_iter()
        .partition(|s| is_secondary_index(s));
    (tables.concat(), indexes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secondary_indexes_are_split_off_and_everything_else_kept_in_order() {
        let ddl = "-- a comment; with a semicolon\nCREATE TABLE t (a int PRIMARY KEY, b text DEFAULT 'x;y');\n\
                   CREATE INDEX t_b ON t (b);\nCREATE UNIQUE INDEX t_u ON t (b, a);\n\
                   create index t_lower on t (lower(b));\nCREATE TABLE u (c int);\n";
        let (tables, indexes) = split(ddl);
        assert_eq!(indexes.len(), 2, "{indexes:?}");
        assert!(indexes[0].contains("t_b") && indexes[1].contains("t_lower"));
        assert!(tables.contains("DEFAULT 'x;y'"), "{tables}");
        assert!(tables.contains("CREATE UNIQUE INDEX t_u"), "{tables}");
        assert!(tables.contains("CREATE TABLE u"), "{tables}");
        assert!(!tables.contains("t_lower"), "{tables}");
    }

    #[test]
    fn every_projection_keeps_its_tables_and_keys_without_its_indexes() {
        for projection in crate::projections::all() {
            let (tables, indexes) = split(projection.ddl());
            let created = statements(projection.ddl())
                .into_iter()
                .filter(|s| s.contains("CREATE TABLE "))
                .count();
            assert!(created > 0, "{}", projection.name());
            assert_eq!(
                statements(&tables)
                    .into_iter()
                    .filter(|s| s.contains("CREATE TABLE "))
                    .count(),
                created,
                "{}",
                projection.name()
            );
            let all = statements(projection.ddl()).len();
            assert_eq!(
                statements(&tables).len() + indexes.len(),
                all,
                "{}",
                projection.name()
            );
        }
    }
}
