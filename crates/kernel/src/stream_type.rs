//! The stream types of the log: one name per kind of record, defined here
//! once and taken by each decider as its [`crate::Decider::STREAM_TYPE`].
//! A projection that matched a misspelt copy would skip every event of the
//! kind silently, so no other place spells them.

pub const PROPERTY: &str = "property";
pub const DEAL: &str = "deal";
pub const CONTACT: &str = "contact";
pub const TENANT: &str = "tenant";
/// A user's credentials (password hash, refresh tokens); redacted for
/// people and on Kafka ([`crate::redaction`]).
pub const CREDENTIALS: &str = "credentials";
/// The claim of a tenant's slug, read across tenants at sign-in.
pub const TENANT_SLUG: &str = "tenant_slug";
/// How far a user has read their notifications (ADR 0038); the stream's
/// id is derived from the user's.
pub const NOTIFICATION_INBOX: &str = "notification_inbox";

/// Every stream type, for checks that none is spelt twice.
pub const ALL: [&str; 7] = [
    PROPERTY,
    DEAL,
    CONTACT,
    TENANT,
    CREDENTIALS,
    TENANT_SLUG,
    NOTIFICATION_INBOX,
];

#[cfg(test)]
mod tests {
    use super::ALL;
    use std::path::Path;

    /// Non-test Rust sources under `dir` (the text before any `#[cfg(test)]`).
    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read a source directory") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "tests" | "benches" | "target") {
                    sources(&path, out);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).expect("read a source");
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.push((path.display().to_string(), code.to_owned()));
            }
        }
    }

    /// The names are spelt here and nowhere else in the code that reads or
    /// writes the log: a stream type in quotes elsewhere is a copy that can drift.
    #[test]
    fn stream_types_are_spelt_only_here() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![];
        for dir in ["crates", "services", "projections", "gateway", "src"] {
            sources(&root.join(dir), &mut files);
        }
        assert!(files.len() > 100, "read only {} files", files.len());
        let mut copies = vec![];
        for (path, code) in &files {
            if path.ends_with("stream_type.rs") {
                continue;
            }
            for line in code.lines() {
                let spelt = ALL.iter().any(|name| {
                    let quoted = format!("\"{name}\"");
                    line.contains(&format!("stream_type == {quoted}"))
                        || line.contains(&format!("stream_type: {quoted}"))
                        || line.contains(&format!("(events, {quoted})"))
                        || line.trim_start().starts_with(&format!("{quoted} =>"))
                        || line.trim_end().ends_with(&format!("=> {quoted},"))
                        || line.trim() == quoted
                });
                if spelt {
                    copies.push(format!("{path}: {}", line.trim()));
                }
            }
        }
        assert!(
            copies.is_empty(),
            "use deedlog_kernel::stream_type:\n{}",
            copies.join("\n")
        );
    }

    #[test]
    fn every_name_is_distinct() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
