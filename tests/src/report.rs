//! What the benches measure about themselves and where they write their
//! figures, so both write the same way.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Requests per second of the benches' open loops; their JSON keys name it
/// (`..._at_1000`).
pub const RATE: u32 = 1_000;

/// The workspace's `target/bench`, where benches write their figures.
pub fn bench_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
    root.expect("a workspace").join("target/bench")
}

/// Writes `figures` pretty-printed to `target/bench/<name>.json`.
pub fn write(name: &str, figures: &Value) {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("create target/bench");
    std::fs::write(dir.join(format!("{name}.json")), format!("{figures:#}\n"))
        .unwrap_or_else(|e| panic!("write {name}.json: {e}"));
}

/// Peak resident memory of this process (VmHWM), in MB: in a bench, every
/// component of the cluster and the load generator.
pub fn peak_rss_mb() -> Option<f64> {
    Some(crate::process::memory("self")?.peak)
}

/// A bench's setting from the environment variable `name`, else `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse().unwrap_or_else(|e| panic!("{name}={v}: {e}"))
    })
}
