//! The snapshot a read sees (`pg_current_snapshot()`), parsed from its text.

use std::fmt;
use std::str::FromStr;

/// A PostgreSQL snapshot (`pg_current_snapshot()`): `xmin:xmax:xip,...`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Every transaction id below this has ended.
    pub xmin: u64,
    /// One past the newest completed transaction id.
    pub xmax: u64,
    /// Transaction ids below `xmax` in progress when the snapshot was taken.
    pub xip: Vec<u64>,
}

/// A snapshot text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotParseError(pub String);

impl fmt::Display for SnapshotParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed snapshot {:?}", self.0)
    }
}

impl FromStr for Snapshot {
    type Err = SnapshotParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SnapshotParseError(text.to_owned());
        let mut parts = text.splitn(3, ':');
        let xmin = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let xmax = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let xip = match parts.next() {
            Some("") | None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|x| x.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?,
        };
        Ok(Snapshot { xmin, xmax, xip })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A snapshot as PostgreSQL builds it: `xmax` one past the newest
    /// completed id, `xip` the running ids below it, `xmin` the smallest of
    /// those (or `xmax`).
    pub(in crate::gap) fn snap(running: &[u64], latest_completed: u64) -> Snapshot {
        let xmax = latest_completed + 1;
        let xip: Vec<u64> = running.iter().copied().filter(|x| *x < xmax).collect();
        Snapshot {
            xmin: xip.iter().copied().min().unwrap_or(xmax),
            xmax,
            xip,
        }
    }

    #[test]
    fn parses_snapshots() {
        assert_eq!(
            "10:20:".parse(),
            Ok(Snapshot {
                xmin: 10,
                xmax: 20,
                xip: vec![]
            })
        );
        assert_eq!(
            "10:20:12,15".parse(),
            Ok(Snapshot {
                xmin: 10,
                xmax: 20,
                xip: vec![12, 15]
            })
        );
        assert!("10:x:".parse::<Snapshot>().is_err());
        assert!("garbage".parse::<Snapshot>().is_err());
    }
}
