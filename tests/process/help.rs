//! `--help` on every subcommand, found by walking the command's own help:
//! each answers with its usage and a description, and exits zero, without
//! touching any database.

use std::process::Command;

fn help(path: &[String]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_deedlog"))
        .args(path)
        .arg("--help")
        .env(
            "DEEDLOG__DATABASE__URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .output()
        .expect("run deedlog");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "deedlog {path:?} --help failed");
    text
}

/// The subcommands a help text lists (without `help` itself).
fn subcommands(text: &str) -> Vec<String> {
    let Some(section) = text.split("Commands:\n").nth(1) else {
        return Vec::new();
    };
    section
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_subcommand_has_help() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        let text = help(&path);
        let usage = format!("Usage: deedlog {}", path.join(" "));
        assert!(
            text.contains(usage.trim_end()),
            "{path:?}: no usage line in\n{text}"
        );
        assert!(
            text.lines().next().is_some_and(|l| !l.trim().is_empty()),
            "{path:?}: no description in\n{text}"
        );
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        seen.push(path.join(" "));
    }
    for expected in [
        "up",
        "serve",
        "migrate",
        "seed",
        "config check",
        "keys generate",
        "rebuild",
        "reconcile",
        "dlq list",
        "dlq replay",
        "dlq skip",
        "projections",
        "audit history",
        "audit as-of",
        "audit export",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "`deedlog {expected} --help` was not reached: {seen:?}"
        );
    }
}
