//! Deciding which events are safe to deliver in position order.
//!
//! Positions come from a sequence, drawn inside the appending transaction, so
//! a transaction can commit position 7 while position 6 still belongs to one
//! that is in flight. A reader that delivered 7 and moved on would skip 6
//! for ever. The remedy used here:
//!
//! * every appending transaction takes its transaction id *before* drawing
//!   positions (`append_events` calls `pg_current_xact_id()` first);
//! * so if position p is visible in a snapshot and a smaller position is
//!   missing, the transaction holding the missing one started before the
//!   snapshot and is listed among its in-progress ids (`xip`);
//! * the reader delivers up to the first missing position, remembers those
//!   in-progress ids, and treats the gap as settled (rolled back, or a
//!   sequence value never used) once a later snapshot shows all of them
//!   finished: by then any committed event in the gap is visible.
//!
//! This module is the pure bookkeeping; the subscription feeds it the
//! positions and snapshot of each read.

use std::fmt;
use std::str::FromStr;

/// A PostgreSQL snapshot (`pg_current_snapshot()`): `xmin:xmax:xip,...`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub xmin: u64,
    pub xmax: u64,
    /// Transaction ids in progress when the snapshot was taken.
    pub xip: Vec<u64>,
}

impl Snapshot {
    fn in_progress(&self, xid: u64) -> bool {
        self.xip.contains(&xid)
    }
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

/// Tracks the delivered position and any gap being waited out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapTracker {
    /// Last position delivered or settled as never to appear.
    position: u64,
    /// Missing positions below this are known never to appear.
    settled_below: u64,
    watch: Option<Watch>,
}

/// A gap under observation: positions below `below` may still be filled by `xids`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Watch {
    below: u64,
    xids: Vec<u64>,
}

impl GapTracker {
    /// Starts after `position` (0 for the beginning of the log).
    pub fn new(position: u64) -> Self {
        Self {
            position,
            settled_below: 0,
            watch: None,
        }
    }

    /// The last position delivered: a subscriber resumes after it.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// True while delivery is held back by a possibly in-flight event.
    pub fn is_waiting(&self) -> bool {
        self.watch.is_some()
    }

    /// While a gap is open, the highest position worth reading: nothing past
    /// the first event after the gap can be delivered before the gap settles.
    pub fn read_horizon(&self) -> Option<u64> {
        self.watch.as_ref().map(|watch| watch.below)
    }

    /// Given the ascending positions (all above [`Self::position`]) that one
    /// read saw under `snapshot`, returns how many of them, from the front,
    /// may be delivered now, and advances past them.
    pub fn admit(&mut self, positions: &[u64], snapshot: &Snapshot) -> usize {
        if let Some(watch) = &self.watch {
            if watch.xids.iter().all(|xid| !snapshot.in_progress(*xid)) {
                self.settled_below = self.settled_below.max(watch.below);
                self.watch = None;
            }
        }
        let mut admitted = 0;
        for &position in positions {
            let contiguous = position == self.position + 1;
            let gap_settled = position <= self.settled_below || snapshot.xip.is_empty();
            if !(contiguous || gap_settled) {
                if self.watch.is_none() {
                    self.watch = Some(Watch {
                        below: position,
                        xids: snapshot.xip.clone(),
                    });
                }
                break;
            }
            self.position = position;
            admitted += 1;
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn snap(xip: &[u64]) -> Snapshot {
        Snapshot {
            xmin: xip.iter().copied().min().unwrap_or(100),
            xmax: 1000,
            xip: xip.to_vec(),
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

    #[test]
    fn contiguous_positions_pass() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 2, 3], &snap(&[7])), 3);
        assert_eq!(tracker.position(), 3);
    }

    #[test]
    fn a_gap_waits_for_the_transactions_in_flight_when_seen() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 3], &snap(&[7, 8])), 1);
        assert!(tracker.is_waiting());
        assert_eq!(tracker.read_horizon(), Some(3));
        // 8 still runs (a newer 9 does not matter): still waiting.
        assert_eq!(tracker.admit(&[3], &snap(&[8, 9])), 0);
        // 7 and 8 are done and 2 never appeared: it was rolled back.
        assert_eq!(tracker.admit(&[3, 4], &snap(&[9])), 2);
        assert_eq!(tracker.position(), 4);
        assert!(!tracker.is_waiting());
        assert_eq!(tracker.read_horizon(), None);
    }

    #[test]
    fn a_gap_with_nothing_in_flight_is_settled_at_once() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[2, 5], &snap(&[])), 2);
    }

    #[test]
    fn a_late_commit_in_the_gap_is_delivered_in_order() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 3], &snap(&[7])), 1);
        // 7 committed position 2.
        assert_eq!(tracker.admit(&[2, 3], &snap(&[])), 2);
        assert_eq!(tracker.position(), 3);
    }

    /// One step of a model of concurrent appenders and a reader.
    #[derive(Debug, Clone)]
    enum Step {
        Begin,
        Draw(usize),
        Commit(usize),
        Abort(usize),
        Read,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            1 => Just(Step::Begin),
            3 => (0usize..8).prop_map(Step::Draw),
            2 => (0usize..8).prop_map(Step::Commit),
            1 => (0usize..8).prop_map(Step::Abort),
            3 => Just(Step::Read),
        ]
    }

    #[derive(Default)]
    struct Model {
        next_xid: u64,
        next_position: u64,
        running: BTreeMap<u64, Vec<u64>>,
        committed: Vec<u64>,
    }

    impl Model {
        fn nth_running(&self, n: usize) -> Option<u64> {
            let len = self.running.len();
            (len > 0).then(|| *self.running.keys().nth(n % len).expect("index within len"))
        }

        /// What one read sees, limited like the subscription's to the open gap.
        fn read(&self, tracker: &GapTracker) -> (Vec<u64>, Snapshot) {
            let horizon = tracker.read_horizon().unwrap_or(u64::MAX);
            let mut visible: Vec<u64> = self
                .committed
                .iter()
                .copied()
                .filter(|p| *p > tracker.position() && *p <= horizon)
                .collect();
            visible.sort_unstable();
            let xip: Vec<u64> = self.running.keys().copied().collect();
            (
                visible,
                Snapshot {
                    xmin: 0,
                    xmax: self.next_xid,
                    xip,
                },
            )
        }
    }

    proptest! {
        /// Whatever the interleaving of appenders, the reader delivers every
        /// committed position exactly once, in increasing order, and never a
        /// rolled-back one; once nothing is in flight it has delivered them all.
        #[test]
        fn never_skips_or_repeats(steps in proptest::collection::vec(step(), 1..200)) {
            let mut model = Model::default();
            let mut tracker = GapTracker::new(0);
            let mut delivered = Vec::new();
            let read = |model: &Model, tracker: &mut GapTracker, delivered: &mut Vec<u64>| {
                let (visible, snapshot) = model.read(tracker);
                let n = tracker.admit(&visible, &snapshot);
                delivered.extend_from_slice(&visible[..n]);
            };
            for step in steps {
                match step {
                    Step::Begin => {
                        model.next_xid += 1;
                        model.running.insert(model.next_xid, Vec::new());
                    }
                    Step::Draw(n) => if let Some(xid) = model.nth_running(n) {
                        model.next_position += 1;
                        model.running.get_mut(&xid).expect("running").push(model.next_position);
                    },
                    Step::Commit(n) => if let Some(xid) = model.nth_running(n) {
                        let positions = model.running.remove(&xid).expect("running");
                        model.committed.extend(positions);
                    },
                    Step::Abort(n) => if let Some(xid) = model.nth_running(n) {
                        model.running.remove(&xid);
                    },
                    Step::Read => read(&model, &mut tracker, &mut delivered),
                }
            }
            let still_running: Vec<u64> = model.running.keys().copied().collect();
            for xid in still_running {
                let positions = model.running.remove(&xid).expect("running");
                model.committed.extend(positions);
            }
            for _ in 0..3 {
                read(&model, &mut tracker, &mut delivered);
            }
            let mut expected = model.committed.clone();
            expected.sort_unstable();
            prop_assert_eq!(delivered, expected);
        }
    }
}
