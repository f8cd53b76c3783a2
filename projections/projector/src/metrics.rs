//! The projector's series in the Prometheus text format: what this process
//! applied (counters from [`Stats`]) and, when the log can be asked, how far
//! each projection is behind it ([`Lag`]).

use crate::lag::Lag;
use crate::stats::Stats;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A family of this process's counters: name, type, help, and its value.
type Series = (&'static str, &'static str, &'static str, fn(&Stats) -> u64);

/// A [`Series`] that reads the [`Stats`] counter `field`: every counter is
/// read the same way, so the table names only what differs.
macro_rules! series {
    ($name:literal, $kind:literal, $field:ident, $help:literal) => {
        ($name, $kind, $help, |s: &Stats| {
            s.$field.load(Ordering::Relaxed)
        })
    };
}

/// Renders the series; `lags` may be empty (no log connection).
pub fn render(stats: &BTreeMap<&'static str, Arc<Stats>>, lags: &[Lag]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(&str, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (projection, value) in rows {
            let _ = writeln!(out, "{name}{{projection=\"{projection}\"}} {value}");
        }
    };
    let counter = |f: fn(&Stats) -> u64| {
        stats
            .iter()
            .map(|(name, s)| (*name, f(s) as f64))
            .collect::<Vec<_>>()
    };
    let applied: [Series; 6] = [
        series!("deedlog_projection_events_total", "counter", events, "Events applied by this process."),
        series!("deedlog_projection_batches_total", "counter", batches, "Batches committed by this process."),
        series!("deedlog_projection_dead_letters_total", "counter", dead_letters, "Events this process sent to the dead letters."),
        series!("deedlog_projection_position", "gauge", position, "The checkpoint after this process's last commit."),
        series!("deedlog_projection_refused_skips_total", "counter", refused_skips, "Batches refused because they would have moved the checkpoint past events of the log they did not hold."),
        series!("deedlog_projection_drift_rows", "gauge", drift_rows, "Rows that differed from the log at this process's last background verification."),
    ];
    for (name, kind, help, value) in applied {
        family(name, kind, help, counter(value));
    }
    if !lags.is_empty() {
        let rows = |f: fn(&Lag) -> f64| lags.iter().map(|l| (l.projection, f(l))).collect();
        family(
            "deedlog_projection_lag_positions",
            "gauge",
            "Log positions not yet applied.",
            rows(|l| l.behind_positions as f64),
        );
        family(
            "deedlog_projection_lag_seconds",
            "gauge",
            "Age of the oldest event not yet applied (0 when caught up).",
            rows(|l| l.behind_seconds),
        );
        family(
            "deedlog_projection_dead_letters_pending",
            "gauge",
            "Dead letters waiting for replay or skip.",
            rows(|l| l.pending_dead_letters as f64),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_is_labelled_by_projection_and_parses() {
        let stats: BTreeMap<&'static str, Arc<Stats>> =
            [("properties", Arc::new(Stats::default()))].into();
        stats["properties"].events.store(7, Ordering::Relaxed);
        stats["properties"].drift_rows.store(3, Ordering::Relaxed);
        let lags = [Lag {
            projection: "properties",
            position: Some(5),
            head: 9,
            behind_positions: 4,
            behind_seconds: 1.5,
            pending_dead_letters: 1,
        }];
        let text = render(&stats, &lags);
        for line in [
            "deedlog_projection_events_total{projection=\"properties\"} 7",
            "deedlog_projection_drift_rows{projection=\"properties\"} 3",
            "deedlog_projection_refused_skips_total{projection=\"properties\"} 0",
            "deedlog_projection_lag_positions{projection=\"properties\"} 4",
            "deedlog_projection_lag_seconds{projection=\"properties\"} 1.5",
            "deedlog_projection_dead_letters_pending{projection=\"properties\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').expect("series value");
            assert!(series.starts_with("deedlog_projection_"), "{line}");
            value.parse::<f64>().expect("a number");
        }
        assert!(!render(&stats, &[]).contains("lag_seconds"));
    }
}
