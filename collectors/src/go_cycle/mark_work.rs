//! How a Go-style cycle keeps and scans its grey work: the one thing the
//! `concurrent` and `greentea` plans do differently.
//!
//! [`super::GoCycle`] owns everything else — the barrier, the pacer, the
//! assists, the root jobs, mark termination and the sweep — and asks its
//! [`MarkWork`] only three things: *shade* this pointer (mark the object it
//! points into and make it grey), *drain* grey work for a budget, and *is
//! any grey work left* on the shared queues. A drain keeps what it greys on
//! its own thread and gives everything back to the shared queues before it
//! returns, so that "nothing shared is left and no drain is running" means
//! the mark is done — the condition mark termination checks.
//!
//! [`Drain`] is the loop bookkeeping every drain shares: the scan-work
//! budget, the polls of `should_yield` (every [`YIELD_EVERY_OBJECTS`]
//! scanned, or [`YIELD_EVERY_BYTES`] of scan work, whichever comes first),
//! and reporting scan work and marked bytes to the pacer as they accrue.

use crate::collector::GcConfig;
use crate::heap::{Address, Heap};
use std::sync::atomic::{AtomicU64, Ordering};

/// Grey objects (or spans) a drain scans between polls of whether to stop
/// (a stop the world, the end of its slice): a few microseconds of marking.
pub const YIELD_EVERY_OBJECTS: u32 = 32;

/// Pointer words of one object a marker scans in one go; a larger object
/// is scanned in oblets of this many words, each its own grey entry (Go
/// splits objects over 128 KiB likewise: `maxObletBytes`).
pub const OBLET_WORDS: usize = 1024;

/// Scan work (bytes of pointer words) a drain does between polls of
/// whether to stop, whatever the number of objects: one oblet.
pub const YIELD_EVERY_BYTES: u64 = OBLET_WORDS as u64 * crate::heap::WORD_BYTES;

/// Objects a drain scans between reports of its progress to the pacer.
const PROGRESS_EVERY_OBJECTS: u32 = 256;

/// Who drains: the cycle's background slices, a goroutine's mark assist
/// (on the mutator's own thread, between its events), or mark termination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drainer {
    Background,
    Assist,
    Termination,
}

/// A way of keeping and scanning grey work, for [`super::GoCycle`].
pub trait MarkWork: Send + Sync + 'static {
    /// The plan's registered name (`concurrent`, `greentea`).
    const NAME: &'static str;

    /// The marking these settings (and the plan's options in them) ask for.
    fn new(config: &GcConfig) -> Self
    where
        Self: Sized;

    /// Marks the white heap object `v` points into (nothing for 0, a
    /// non-heap address or a marked object) and puts it where every marker
    /// can find it. Returns its bytes if this call marked it.
    fn shade(&self, heap: &Heap, v: Address) -> u64;

    /// Scans grey work until there is none, `budget` bytes of scan work
    /// (pointer words read, as Go's `scanWork` counts) are done, or
    /// `should_yield()` says stop; returns the scan work done and whether
    /// it was told to stop. Whatever it greyed and did not scan is back on
    /// the shared queues when it returns.
    fn drain(
        &self,
        heap: &Heap,
        who: Drainer,
        budget: u64,
        should_yield: &dyn Fn() -> bool,
        progress: &MarkProgress,
    ) -> (u64, bool);

    /// Is grey work left on the shared queues?
    fn is_empty(&self) -> bool;

    /// A cycle's mark begins (with the world stopped): reset per-cycle
    /// counters.
    fn begin_cycle(&self) {}

    /// The plan's own per-cycle figures (names it declares as its cycle
    /// metrics), read at mark termination.
    fn cycle_metrics(&self, _out: &mut Vec<(&'static str, f64)>) {}
}

/// Where drains report to the pacer: scan work done and bytes marked this
/// cycle; and the test knob that slows marking down.
pub struct MarkProgress {
    pub scan_done: AtomicU64,
    pub marked: AtomicU64,
    /// A pause of this many microseconds per object scanned (tests; 0: none).
    pub slow_mark_us: u64,
}

impl MarkProgress {
    pub fn new(slow_mark_us: u64) -> MarkProgress {
        MarkProgress { scan_done: AtomicU64::new(0), marked: AtomicU64::new(0), slow_mark_us }
    }

    /// Counts scan work and marked bytes done outside a drain (root jobs).
    pub fn add(&self, work: u64, marked: u64) {
        self.scan_done.fetch_add(work, Ordering::Relaxed);
        self.marked.fetch_add(marked, Ordering::Relaxed);
    }

    /// The test knob: sleeps [`MarkProgress::slow_mark_us`] if set.
    #[inline]
    pub fn slow(&self) {
        if self.slow_mark_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(self.slow_mark_us));
        }
    }
}

/// One drain's bookkeeping: budget, polls, progress reports.
pub struct Drain<'a> {
    budget: u64,
    should_yield: &'a dyn Fn() -> bool,
    progress: &'a MarkProgress,
    work: u64,
    marked: u64,
    units: u32,
    work_reported: u64,
    marked_reported: u64,
    work_at_poll: u64,
    /// A poll is due: [`YIELD_EVERY_OBJECTS`] objects scanned since the last.
    poll_due: bool,
    stopped: bool,
}

impl<'a> Drain<'a> {
    pub fn new(budget: u64, should_yield: &'a dyn Fn() -> bool, progress: &'a MarkProgress) -> Drain<'a> {
        Drain {
            budget,
            should_yield,
            progress,
            work: 0,
            marked: 0,
            units: 0,
            work_reported: 0,
            marked_reported: 0,
            work_at_poll: 0,
            poll_due: false,
            stopped: false,
        }
    }

    /// May the drain take its next unit of work? False once the budget is
    /// spent or a poll said stop.
    #[inline]
    pub fn go_on(&mut self) -> bool {
        if self.stopped || self.work >= self.budget {
            return false;
        }
        if self.poll_due || self.units == 0 || self.work >= self.work_at_poll + YIELD_EVERY_BYTES {
            self.poll_due = false;
            self.work_at_poll = self.work;
            if (self.should_yield)() {
                self.stopped = true;
                return false;
            }
        }
        true
    }

    /// One object (or oblet) scanned: `work` bytes of pointer words read,
    /// `marked` bytes newly marked.
    #[inline]
    pub fn done(&mut self, work: u64, marked: u64) {
        self.done_objects(1, work, marked);
    }

    /// `objects` objects scanned at once (a span's), counted as that many
    /// units for the polls and the progress reports.
    #[inline]
    pub fn done_objects(&mut self, objects: u32, work: u64, marked: u64) {
        self.progress.slow();
        self.work += work;
        self.marked += marked;
        let before = self.units;
        self.units = self.units.wrapping_add(objects.max(1));
        if before / PROGRESS_EVERY_OBJECTS != self.units / PROGRESS_EVERY_OBJECTS {
            self.report();
        }
        if before / YIELD_EVERY_OBJECTS != self.units / YIELD_EVERY_OBJECTS {
            self.poll_due = true;
        }
    }

    /// Bytes newly marked outside a unit's scan (a pointer-free object
    /// marked where it was found).
    #[inline]
    pub fn marked(&mut self, bytes: u64) {
        self.marked += bytes;
    }

    fn report(&mut self) {
        self.progress.add(self.work - self.work_reported, self.marked - self.marked_reported);
        (self.work_reported, self.marked_reported) = (self.work, self.marked);
    }

    /// Ends the drain: reports what is unreported; returns the scan work
    /// done and whether it was told to stop.
    pub fn finish(mut self) -> (u64, bool) {
        self.report();
        (self.work, self.stopped)
    }
}
