//! A model of appenders and a reader under PostgreSQL's transaction ids
//! and snapshots, against which the tracker is checked with generated
//! interleavings.

use super::snapshot::tests::snap;
use super::{GapTracker, Snapshot};
use proptest::prelude::*;
use std::collections::BTreeMap;

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
