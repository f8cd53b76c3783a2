//! The `deedlog` command: a thin shell over the crates.

mod audit;
mod cli;
mod operate;
mod private_pg;
mod seed;

use clap::Parser;
use std::process::ExitCode;

/// jemalloc, not glibc's malloc: with a thread pool of blocking workers
/// glibc kept up to an arena per thread and handed little back, so a
/// seed's resident memory stayed at its high-water mark many times over
/// what was live (ADR 0042).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The decision records share one template, so a reader finds the same
/// parts in each: a numbered title, status, date, then context, options,
/// decision and consequences, in that order.
#[cfg(test)]
mod adr_template {
    #[test]
    fn every_adr_follows_the_template() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/adr");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("docs/adr") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some(number) = name.split('-').next().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("an ADR");
            let mut lines = text.lines();
            let title = lines.next().unwrap_or_default();
            assert!(
                title.starts_with(&format!("# {number}. ")),
                "{name}: title {title:?}"
            );
            let parts: Vec<&str> = text
                .lines()
                .filter_map(|l| {
                    l.strip_prefix("## ")
                        .or_else(|| l.starts_with("Status: ").then_some("Status"))
                        .or_else(|| l.starts_with("Date: ").then_some("Date"))
                })
                .collect();
            assert_eq!(
                parts,
                [
                    "Status",
                    "Date",
                    "Context",
                    "Options",
                    "Decision",
                    "Consequences"
                ],
                "{name}"
            );
            checked += 1;
        }
        assert!(checked >= 31, "checked only {checked} ADRs");
    }
}
