//! What a collector needs from the program it collects for: the root set,
//! stopping and starting the world, and somewhere to report what it did.
//!
//! The harness's replayer implements [`Host`] over its M:N goroutines; a
//! researcher's own mutator (or a unit test) can implement it over plain
//! threads. Collectors never see goroutines, traces or files, only this.
//!
//! Roots are handed over the way MMTk's `Scanning` does it: globals on one
//! side, one goroutine's stack at a time on the other, so a concurrent
//! collector can scan stacks one by one.

use crate::heap::ObjectSink;
use std::sync::atomic::AtomicU64;

/// A pointer-sized slot a root lives in: a global, a frame local, or a stack
/// block's pointer slot. Slots are handed out (not just values) so that a
/// moving collector can update them.
pub type Slot = AtomicU64;

/// What kind of root a slot is, so collectors (and their deliberately broken
/// variants in tests) can tell a frame local from a stack block's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RootKind {
    /// A package-level variable.
    Global,
    /// A pointer local of a live frame.
    Local,
    /// A pointer slot of a block allocated on a live frame's stack.
    StackBlock,
}

/// A visitor of root slots.
pub type RootVisitor<'a> = dyn FnMut(&Slot, RootKind) + 'a;

/// The root set: every goroutine's stack plus the package-level variables.
///
/// Implementations must only be asked to scan a stack while its goroutine is
/// stopped (during a stop-the-world pause, or a per-goroutine suspension).
pub trait RootSet: Sync {
    /// Visits every global pointer slot.
    fn scan_globals(&self, visit: &mut RootVisitor<'_>);

    /// How many stacks there are to scan: goroutines are numbered
    /// `0..stack_count()`; an exited (or not yet started) goroutine visits
    /// nothing.
    fn stack_count(&self) -> usize;

    /// Visits every pointer slot on goroutine `g`'s stack: its frames' locals
    /// and the pointer slots of its stack blocks.
    ///
    /// Also the hook for stack shrinking: when `may_shrink` is true the host
    /// may halve the stack if less than a quarter is used (Go's `shrinkstack`
    /// at GC), after the visit.
    fn scan_stack(&self, g: usize, may_shrink: bool, visit: &mut RootVisitor<'_>);

    /// Visits every root: globals, then each stack in turn.
    fn scan_all(&self, visit: &mut RootVisitor<'_>) {
        self.scan_globals(visit);
        for g in 0..self.stack_count() {
            self.scan_stack(g, false, visit);
        }
    }
}

/// A stop-the-world phase, as recorded in `pauses.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// A whole stop-the-world collection (mark and sweep in one pause).
    StwFull,
    /// Go's sweep termination: the pause that starts a concurrent cycle.
    SweepTerm,
    /// Go's mark termination: the pause that ends concurrent marking.
    MarkTerm,
    /// A mark termination that found more marking than its pause may take
    /// and restarted concurrent marking (Go's `gcMarkDone` going back to
    /// `top`): a pause of the cycle, not its end.
    MarkRestart,
    /// A generational nursery collection.
    Minor,
    /// A generational full-heap collection.
    Major,
}

impl Phase {
    /// The name used in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::StwFull => "stw-full",
            Phase::SweepTerm => "sweep-term",
            Phase::MarkTerm => "mark-term",
            Phase::MarkRestart => "mark-restart",
            Phase::Minor => "minor",
            Phase::Major => "major",
        }
    }
}

/// What started a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The heap reached the collector's trigger (GOGC goal).
    HeapGoal,
    /// An explicit `runtime.GC()` in the program.
    Explicit,
    /// The final collection at the end of a run.
    Final,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::HeapGoal => "heap-goal",
            Trigger::Explicit => "explicit",
            Trigger::Final => "final",
        }
    }
}

/// Proof that the world is stopped, returned by [`Host::stop_the_world`] and
/// handed back to [`Host::start_the_world`].
#[derive(Debug)]
pub struct Stopped {
    /// The cycle the pause belongs to.
    pub cycle: u64,
    pub phase: Phase,
    /// Host clock (ns) when the stop was requested.
    pub requested_ns: u64,
    /// Time from the request until every mutator was at a safepoint.
    pub ttsp_ns: u64,
}

/// One collection, as the collector reports it (kept apart from the pauses
/// it contains: a concurrent cycle has two pauses, a generational run many
/// minor cycles per major one).
#[derive(Clone, Debug, Default)]
pub struct CycleRecord {
    pub cycle: u64,
    pub trigger: Option<Trigger>,
    /// Host clock at the start and end of the cycle.
    pub start_ns: u64,
    pub end_ns: u64,
    /// Heap bytes in use (Go's `heapLive`) when the cycle started.
    pub heap_live_before: u64,
    /// Bytes and objects found reachable by marking.
    pub marked_bytes: u64,
    pub marked_objects: u64,
    /// Time spent marking and sweeping (wall clock; a concurrent mark's is
    /// the length of its concurrent phase).
    pub mark_ns: u64,
    /// CPU time the collector's threads spent marking (not counting mark
    /// assists, which [`crate::Collector::assist`] callers time).
    pub mark_cpu_ns: u64,
    pub sweep_ns: u64,
    /// Bytes and objects freed by the sweep.
    pub freed_bytes: u64,
    pub freed_objects: u64,
    /// The heap goal set for the next cycle.
    pub next_goal: u64,
    /// Heap bytes in use (`heap_live`) when the cycle's sweep was done.
    pub heap_live_after: u64,
    /// CPU time the collector's background slices spent marking while the
    /// mutators ran (a concurrent mark's dedicated, fractional and idle mark
    /// workers, on the host's workers: see [`crate::background`]); part of
    /// `mark_cpu_ns`. Zero for a stop-the-world
    /// collection.
    pub background_mark_cpu_ns: u64,
    /// The plan's own measurements of this cycle, by name: each one a
    /// metric it declares ([`crate::plan_metrics`], the registry's
    /// `cycle_metrics`), such as a generational plan's `promoted_bytes`.
    /// A metric it has no value for this cycle is left out.
    pub extra: Vec<(&'static str, f64)>,
}

impl CycleRecord {
    /// The value of the plan's metric `name` for this cycle, if it reported
    /// one.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.extra.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }
}

/// The program a collector runs inside.
pub trait Host: Sync {
    /// The root set.
    fn roots(&self) -> &dyn RootSet;

    /// Stops every mutator at its next safepoint and returns once they all
    /// are, or returns `None` if another thread stopped the world first
    /// (the caller was parked as a mutator meanwhile, and should re-check
    /// whether it still needs to collect).
    fn stop_the_world(&self, cycle: u64, phase: Phase) -> Option<Stopped>;

    /// Restarts the world; the host records the pause.
    fn start_the_world(&self, stopped: Stopped);

    /// The host's clock in nanoseconds (monotonic, shared with pause records).
    fn now_ns(&self) -> u64;

    /// Where the collector reports each object it frees or moves, if the
    /// host wants to know (the verifier does). Sweeps report frees through
    /// it from any thread — a pause, a mutator sweeping lazily, a background
    /// sweeper — before the memory can be handed out again; a copying
    /// collector reports each move before the world restarts.
    fn object_sink(&self) -> Option<std::sync::Arc<dyn ObjectSink>> {
        None
    }

    /// A cycle finished.
    fn on_cycle(&self, _record: &CycleRecord) {}

    /// The collector has background work of kind `work` (see
    /// [`crate::background`]): the host runs it in slices of
    /// [`crate::Collector::background_slice`] on its workers, beside the
    /// mutators, until a slice reports [`crate::background::SliceEnd::Done`].
    /// Returns false if the host has no workers to run it on (then the
    /// collector does the work itself, now).
    fn request_background(&self, _work: crate::background::Work) -> bool {
        false
    }

    /// May a thread that must wait for the collector's background work (an
    /// explicit collection waiting for the cycle under way) do some of it
    /// while it waits? Yes by default — on a host whose workers run the
    /// work, the waiting thread is one of them, and with one worker nobody
    /// else would; no on a host that runs it on one thread of its own to
    /// keep its interleaving fixed (tests).
    fn waiter_may_help(&self) -> bool {
        true
    }

    /// Is a stop-the-world requested or in force? Collector work that runs
    /// beside the mutators on their workers (a background slice, a mark
    /// assist) polls it between small units of work and returns early, so
    /// that a stop never waits long for it.
    fn stop_requested(&self) -> bool {
        false
    }
}
