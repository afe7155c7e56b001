//! Hooks at the boundaries of a concurrent collector's steps, so a test can
//! hold the collector until a mutator has done something (and hold a
//! mutator until the collector has done something) — driving an
//! interleaving instead of timing one.
//!
//! The concurrent collector ([`crate::plans::concurrent`]) calls
//! [`CycleHooks::before`] and [`CycleHooks::after`] around each step of a
//! cycle when hooks are installed (`Concurrent::with_cycle_hooks`); without
//! them it checks one `Option` per step. A hook may block: the step then
//! waits. The harness's replayer has the mutator-side counterpart (a hook
//! before each event of each goroutine), and its tests implement both to
//! replay one chosen interleaving exactly.

/// A step of a concurrent cycle, in the order a cycle takes them (with one
/// mark worker: globals, each stack in goroutine order, the heap; with
/// several, the roots are shared out and each worker drains the heap after
/// its roots).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CycleStep {
    /// Sweep termination, on the thread that starts the cycle (a mutator
    /// that crossed the trigger or asked for a collection, once it has
    /// finished the last cycle's sweep): `before` just before the world is
    /// stopped, `after` once it has restarted with the barrier on and the
    /// marking handed to the mark workers — or at once if another thread
    /// stopped the world first and no cycle starts.
    SweepTermination,
    /// Scanning the globals.
    Globals,
    /// Scanning goroutine `g`'s stack (the host's numbering, as in
    /// [`crate::host::RootSet::scan_stack`]), for every `g` — a stack
    /// already black this cycle (its goroutine started during marking, or
    /// the stacks were scanned early) is left as it is.
    Stack(usize),
    /// A mark worker tracing the heap from the grey objects until none is
    /// left.
    Heap,
    /// Mark termination: `before` with the world still running, just before
    /// it is stopped; `after` once it has restarted, with the barrier off
    /// and the sweep started.
    MarkTermination,
    /// The background sweep, up to the cycle's record (unless a new cycle's
    /// start finished the sweep first).
    Sweep,
}

/// Called around each [`CycleStep`] of cycle `cycle` (1 for the collector's
/// first), from whichever thread takes the step. A hook must not wait for a
/// mutator while the world is stopped (no step but the two terminations
/// stops it, and only between its two calls).
///
/// Everything the collector's background work does that a mutator can see — the
/// barrier and black allocation turned on or off, mark bits, the grey
/// queue, the pacer's counters, sweeping, stopping the world — happens
/// inside a step (between its two calls), so hooks that keep the mutators
/// waiting while a step is under way fix the interleaving.
pub trait CycleHooks: Send + Sync {
    /// `step` is about to be taken.
    fn before(&self, cycle: u64, step: CycleStep);
    /// `step` is done.
    fn after(&self, cycle: u64, step: CycleStep);
}
