//! The bookkeeping of the delivered position and the gap being waited out.

use super::Snapshot;

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
    use crate::gap::snapshot::tests::snap;

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
}
