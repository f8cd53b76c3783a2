//! Deciding which events are safe to deliver in position order.
//!
//! Positions come from a sequence, drawn inside the appending transaction, so
//! a transaction can commit position 7 while position 6 still belongs to one
//! that is in flight. A reader that delivered 7 and moved on would skip 6
//! for ever. The rule used here (ADR 0017, superseding ADR 0002's rule):
//!
//! * every appending transaction takes its transaction id *before* drawing
//!   positions (`append_events` calls `pg_current_xact_id()` first);
//! * when a read sees position p with a smaller position missing, the
//!   transaction holding the missing one took its id before p was drawn,
//!   hence before that read; the reader then takes an id of its own, R
//!   (`pg_current_xact_id()` in the reading transaction): every transaction
//!   that can still fill the gap has an id below R;
//! * the gap is settled (rolled back, or a sequence value never used) once
//!   a later snapshot's `xmin` is at least R: no transaction below R is
//!   running any more, so any committed event in the gap is visible.
//!
//! The snapshot's in-progress list (`xip`) is not enough, and this is why:
//! `xip` lists only running ids *below* `xmax`, and `xmax` is one past the
//! newest *completed* transaction. If Y takes id 100 and X takes 101, X
//! draws m and Y draws m+1 and commits, a snapshot shows m+1, not m, and
//! an empty `xip` (101 >= `xmax` = 101). `xmin` has the same blind spot
//! (it is the smallest listed id, or `xmax`), which R covers: R is
//! assigned after the read, so it is above every id that could fill the
//! gap, and `xmin >= R` can only hold once all of them have ended.
//!
//! Contiguous positions need none of this: the common path takes no id.
//! This module is the pure bookkeeping; the subscription feeds it the
//! positions and snapshot of each read, and the id it takes on request.

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

/// Tracks the delivered position and any gap being waited out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapTracker {
    /// Last position delivered or settled as never to appear.
    position: u64,
    /// Positions up to this one are resolved: whatever is missing below it
    /// never appears.
    settled_through: u64,
    watch: Option<Watch>,
}

/// A gap under observation: positions below `below` may still be filled by
/// a transaction whose id is below `bound` (unknown until the reader has
/// taken its own id).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Watch {
    below: u64,
    bound: Option<u64>,
}

impl GapTracker {
    /// Starts after `position` (0 for the beginning of the log).
    pub fn new(position: u64) -> Self {
        Self::settled_through(position, 0)
    }

    /// Starts after `position`, knowing that every position up to `settled`
    /// is resolved (e.g. a subscription already delivered past it), so
    /// gaps up to there are crossed without waiting.
    pub fn settled_through(position: u64, settled: u64) -> Self {
        Self {
            position,
            settled_through: settled,
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

    /// True when a gap was just seen and the reader must take a transaction
    /// id of its own in the same reading transaction (see [`Self::bound`]).
    pub fn needs_bound(&self) -> bool {
        matches!(self.watch, Some(Watch { bound: None, .. }))
    }

    /// Records the id the reader took after seeing the open gap: every
    /// transaction that can still fill it has a smaller one.
    pub fn bound(&mut self, xid: u64) {
        if let Some(watch) = &mut self.watch {
            watch.bound.get_or_insert(xid);
        }
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
        if let Some(Watch {
            below,
            bound: Some(bound),
        }) = self.watch
        {
            if snapshot.xmin >= bound {
                self.settled_through = self.settled_through.max(below);
                self.watch = None;
            }
        }
        let mut admitted = 0;
        for &position in positions {
            let contiguous = position == self.position + 1;
            if !(contiguous || position <= self.settled_through) {
                if self.watch.is_none() {
                    self.watch = Some(Watch {
                        below: position,
                        bound: None,
                    });
                }
                break;
            }
            self.position = position;
            admitted += 1;
        }
        // A gap filled by late commits needs no more waiting: everything up
        // to the position after it has been delivered.
        if self
            .watch
            .as_ref()
            .is_some_and(|watch| self.position >= watch.below)
        {
            self.watch = None;
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A snapshot as PostgreSQL builds it: `xmax` one past the newest
    /// completed id, `xip` the running ids below it, `xmin` the smallest of
    /// those (or `xmax`).
    fn snap(running: &[u64], latest_completed: u64) -> Snapshot {
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

    #[test]
    fn contiguous_positions_pass_without_taking_an_id() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 2, 3], &snap(&[7], 9)), 3);
        assert_eq!(tracker.position(), 3);
        assert!(!tracker.needs_bound());
        assert!(!tracker.is_waiting());
    }

    #[test]
    fn a_gap_waits_until_every_id_below_the_readers_has_ended() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 3], &snap(&[7, 8], 9)), 1);
        assert!(tracker.needs_bound());
        assert_eq!(tracker.read_horizon(), Some(3));
        tracker.bound(10);
        assert!(!tracker.needs_bound());
        // 8 still runs: still waiting, whatever else finished.
        assert_eq!(tracker.admit(&[3], &snap(&[8, 11], 11)), 0);
        // Everything below 10 has ended and 2 never appeared: rolled back.
        assert_eq!(tracker.admit(&[3, 4], &snap(&[11], 11)), 2);
        assert_eq!(tracker.position(), 4);
        assert!(!tracker.is_waiting());
        assert_eq!(tracker.read_horizon(), None);
    }

    #[test]
    fn a_gap_with_nothing_listed_in_flight_still_waits_for_the_readers_id() {
        // The old rule settled this at once: an empty `xip` proves nothing.
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[2, 5], &snap(&[], 9)), 0);
        assert!(tracker.needs_bound());
        tracker.bound(10);
        // The next read goes up to the gap only (the horizon).
        assert_eq!(tracker.read_horizon(), Some(2));
        assert_eq!(tracker.admit(&[2], &snap(&[], 10)), 1);
        assert_eq!(
            tracker.admit(&[5], &snap(&[], 10)),
            0,
            "3 and 4 are a new gap"
        );
    }

    /// Y takes id 100, X takes 101, X draws m = 1, Y draws 2 and commits.
    /// The snapshot shows 2, not 1, and lists nothing in flight: 101 is at
    /// or above `xmax` (one past the newest completed, Y's 100).
    #[test]
    fn a_newer_transaction_holding_an_earlier_position_is_waited_for() {
        let mut tracker = GapTracker::new(0);
        let after_y = snap(&[101], 100);
        assert_eq!(after_y.xip, Vec::<u64>::new(), "101 is unlisted");
        assert_eq!(tracker.admit(&[2], &after_y), 0, "2 must wait for 1");
        tracker.bound(102);
        assert_eq!(tracker.admit(&[2], &snap(&[101], 102)), 0, "X still runs");
        // X commits position 1.
        assert_eq!(tracker.admit(&[1, 2], &snap(&[], 102)), 2);
        assert_eq!(tracker.position(), 2);
    }

    #[test]
    fn a_gap_filled_by_a_late_commit_stops_waiting_at_once() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[2], &snap(&[7, 8], 9)), 0);
        tracker.bound(10);
        // 2's gap is filled while an unrelated 8 still runs: no more waiting.
        assert_eq!(tracker.admit(&[1, 2], &snap(&[8], 9)), 2);
        assert!(!tracker.is_waiting());
        assert_eq!(tracker.read_horizon(), None);
        assert_eq!(tracker.admit(&[3, 4], &snap(&[8], 9)), 2);
    }

    #[test]
    fn known_settled_positions_are_crossed_without_waiting() {
        let mut tracker = GapTracker::settled_through(3, 9);
        assert_eq!(tracker.admit(&[5, 9, 12], &snap(&[7], 9)), 2);
        assert_eq!(tracker.position(), 9);
        assert!(tracker.needs_bound(), "past 9 the rule applies again");
    }

    #[test]
    fn a_late_commit_in_the_gap_is_delivered_in_order() {
        let mut tracker = GapTracker::new(0);
        assert_eq!(tracker.admit(&[1, 3], &snap(&[7], 8)), 1);
        tracker.bound(9);
        // 7 committed position 2.
        assert_eq!(tracker.admit(&[2, 3], &snap(&[], 9)), 2);
        assert_eq!(tracker.position(), 3);
    }

    /// One step of a model of concurrent appenders and a reader.
    #[derive(Debug, Clone)]
    enum Step {
        /// A writer begins and takes its id (`append_events` does first).
        Begin,
        /// The nth running writer draws a position.
        Draw(usize),
        Commit(usize),
        Abort(usize),
        /// Another transaction takes an id and ends without writing.
        Other,
        Read,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => Just(Step::Begin),
            3 => (0usize..8).prop_map(Step::Draw),
            2 => (0usize..8).prop_map(Step::Commit),
            1 => (0usize..8).prop_map(Step::Abort),
            1 => Just(Step::Other),
            3 => Just(Step::Read),
        ]
    }

    /// PostgreSQL as far as the reader can tell: ids are handed out in
    /// increasing order; a snapshot's `xmax` is one past the newest
    /// *completed* id (not the newest assigned one), its `xip` lists only the
    /// running ids below `xmax`, and its `xmin` is the smallest of those or
    /// `xmax`; a committed position is visible to every later snapshot; the
    /// reader's own id is assigned after its read and ends with it.
    /// Assumed, not modelled: prepared transactions and subtransactions
    /// (both end no earlier than their top-level id, which is what counts).
    #[derive(Default)]
    struct Model {
        next_xid: u64,
        latest_completed: u64,
        next_position: u64,
        running: BTreeMap<u64, Vec<u64>>,
        committed: Vec<u64>,
    }

    impl Model {
        fn nth_running(&self, n: usize) -> Option<u64> {
            let len = self.running.len();
            (len > 0).then(|| *self.running.keys().nth(n % len).expect("index within len"))
        }

        fn take_id(&mut self) -> u64 {
            self.next_xid += 1;
            self.next_xid
        }

        fn end(&mut self, xid: u64) -> Vec<u64> {
            self.latest_completed = self.latest_completed.max(xid);
            self.running.remove(&xid).unwrap_or_default()
        }

        fn snapshot(&self) -> Snapshot {
            let running: Vec<u64> = self.running.keys().copied().collect();
            snap(&running, self.latest_completed)
        }

        /// One read, limited like the subscription's to the open gap; takes
        /// the reader's id when the tracker asks for it.
        fn read(&mut self, tracker: &mut GapTracker, delivered: &mut Vec<u64>) {
            let horizon = tracker.read_horizon().unwrap_or(u64::MAX);
            let mut visible: Vec<u64> = self
                .committed
                .iter()
                .copied()
                .filter(|p| *p > tracker.position() && *p <= horizon)
                .collect();
            visible.sort_unstable();
            let n = tracker.admit(&visible, &self.snapshot());
            delivered.extend_from_slice(&visible[..n]);
            if tracker.needs_bound() {
                let reader = self.take_id();
                tracker.bound(reader);
                self.end(reader);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Whatever the interleaving of appenders, the reader delivers every
        /// committed position exactly once, in increasing order, and never a
        /// rolled-back one; once nothing is in flight it has delivered them all.
        #[test]
        fn never_skips_or_repeats(steps in proptest::collection::vec(step(), 1..200)) {
            let mut model = Model::default();
            let mut tracker = GapTracker::new(0);
            let mut delivered = Vec::new();
            for step in steps {
                match step {
                    Step::Begin => {
                        let xid = model.take_id();
                        model.running.insert(xid, Vec::new());
                    }
                    Step::Draw(n) => if let Some(xid) = model.nth_running(n) {
                        model.next_position += 1;
                        let position = model.next_position;
                        model.running.get_mut(&xid).expect("running").push(position);
                    },
                    Step::Commit(n) => if let Some(xid) = model.nth_running(n) {
                        let positions = model.end(xid);
                        model.committed.extend(positions);
                    },
                    Step::Abort(n) => if let Some(xid) = model.nth_running(n) {
                        model.end(xid);
                    },
                    Step::Other => {
                        let xid = model.take_id();
                        model.end(xid);
                    }
                    Step::Read => model.read(&mut tracker, &mut delivered),
                }
            }
            let still_running: Vec<u64> = model.running.keys().copied().collect();
            for xid in still_running {
                let positions = model.end(xid);
                model.committed.extend(positions);
            }
            let mut expected = model.committed.clone();
            expected.sort_unstable();
            let last = expected.last().copied().unwrap_or(0);
            // Each gap needs one read to take the reader's id, one to settle.
            for _ in 0..(2 * expected.len() + 3) {
                model.read(&mut tracker, &mut delivered);
            }
            prop_assert_eq!(delivered, expected);
            prop_assert!(tracker.position() >= last);
        }
    }
}
