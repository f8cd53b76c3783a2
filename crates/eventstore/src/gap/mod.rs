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

mod snapshot;
mod tracker;

#[cfg(test)]
mod model;

pub use snapshot::{Snapshot, SnapshotParseError};
pub use tracker::GapTracker;
