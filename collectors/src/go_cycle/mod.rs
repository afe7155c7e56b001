//! Go's GC cycle, shared by the `concurrent` and `greentea` plans: concurrent
//! tri-color mark-sweep, generic over how grey work is kept and scanned
//! ([`MarkWork`]: object by object, or span by span).
//!
//! One cycle, as Go's runtime/mgc.go runs it:
//! ```text
//!  mutators:  ──run──┤STW├──run (barrier on, allocate black, assists)──┤STW├──run (lazy sweep)──
//!  collector:        │ 1 │  2: mark roots, stacks one by one, heap     │ 3 │  4: background sweep
//!                sweep-term                                         mark-term
//! ```
//! 0. **Trigger**: `heap_live` reaches the pacer's trigger, set ahead of the
//!    goal by the runway the last mark needed ([`crate::pacer`]). The
//!    goroutine that crossed it first finishes the last cycle's sweep
//!    (Go's `gcStart`), then:
//! 1. **Sweep termination** (stop the world): turn the write barrier on and
//!    make allocation black; restart the world.
//! 2. **Concurrent mark**, in background slices on the host's own workers
//!    ([`Host::request_background`], [`crate::background`]: Go's dedicated,
//!    fractional and idle mark workers at 25% of `procs`; `collect` returns
//!    after step 1): root jobs — the globals, then each goroutine's stack
//!    one at a time, stopping only that goroutine — then the heap from a
//!    shared grey queue, while the mutators run. Every slice polls its
//!    host's `should_yield` every few microseconds and gives its grey
//!    objects back when it stops. A mutator that
//!    allocates while marking runs into debt; past [`ASSIST_CHUNK_BYTES`] it
//!    pays — first from the scan work background slices have banked (Go's
//!    `bgScanCredit`), then by marking itself — in proportion (a *mark assist*, at its next event
//!    boundary: [`Collector::assist`]), at the pacer's assist ratio — the
//!    marking left over the heap runway left — so marking ends before the
//!    heap reaches the goal.
//! 3. **Mark termination** (stop the world), run by the slice that leaves
//!    the mark last with every root job done and nothing grey: wait for
//!    every other slice to have stopped, drain what the barrier shaded
//!    meanwhile (if more than [`MARK_TERMINATION_BUDGET_NS`] of marking
//!    turned up, restart the world and mark on concurrently instead, as
//!    Go's `gcMarkDone` does when its flush finds work), turn the barrier off, set the next goal and trigger, and
//!    start a concurrent sweep ([`Heap::start_concurrent_sweep`]: O(1), no
//!    span is visited); restart the world.
//! 4. **Concurrent sweep**: spans are swept lazily by allocation and by
//!    background slices on idle workers (Go's `bgsweep`); the cycle's record is written
//!    when the sweep is done. An explicit `runtime.GC()` (and gcwb's final
//!    collection) waits for a running cycle, runs a whole one and sweeps
//!    everything before it returns, as Go's does.
//!
//! The barrier is Go's hybrid barrier (runtime/mbarrier.go):
//! `shade(*slot); if current stack is grey { shade(ptr) }; *slot = ptr`,
//! on every heap pointer store and — because gcwb's globals are roots
//! scanned once, concurrently — on every global store too. Stack stores
//! take no barrier. A goroutine started during marking gets its arguments
//! shaded and its new stack counts as scanned (black).
//!
//! Invariant (the weak tri-color invariant Go's proof rests on): every
//! white object a black object or black stack points to is reachable from
//! a grey object or grey stack through white objects; the deletion half of
//! the barrier keeps such paths from being cut, the insertion half covers
//! pointers written by goroutines whose stacks are not yet scanned.
//! Objects allocated during marking are black. So everything reachable at
//! the start of marking, or allocated since, is marked at mark termination,
//! and only objects dead before the cycle began are swept.
//!
//! Checked by the verifier on random traces and every workload
//! (`harness/tests/concurrent.rs`, `harness/tests/workloads.rs`), which
//! catches each broken barrier variant of [`ConcurrentFaults`] on a trace
//! replayed in the one interleaving that exposes it (held there by
//! [`CycleHooks`] at the collector's steps and the replayer's hooks at the
//! mutators' events); the protocol itself, barrier and slices, is
//! model-checked in `collectors/tests/barrier_model.rs`, the one check that
//! catches `terminate_without_waiting_for_markers` (no verifier test holds
//! two slices in that race).

pub mod mark_work;
pub mod object_queue;

use crate::background::{SliceEnd, Work};
use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::cycle_hooks::{CycleHooks, CycleStep};
use crate::heap::{Address, Heap, HeapError};
use crate::host::{CycleRecord, Host, Phase, RootKind, Slot, Stopped, Trigger};
use crate::pacer::Pacer;
use mark_work::{Drainer, MarkProgress, MarkWork};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A mutator's allocation debt is settled by an assist once it reaches this
/// many bytes (Go's `gcOverAssistWork` batches assists likewise).
pub const ASSIST_CHUNK_BYTES: u64 = 64 << 10;

/// The most marking one call of [`Collector::assist`] does, so a goroutine
/// in a long assist still reaches a safepoint often (Go's assists are
/// preemptible too).
pub const ASSIST_STEP_BYTES: u64 = 256 << 10;

/// How long mark termination marks in its pause before it gives up and
/// restarts concurrent marking (checked every few microseconds).
const MARK_TERMINATION_BUDGET_NS: u64 = 15_000;

/// Mark terminations per cycle that may restart concurrent marking; the
/// next one marks whatever is left in its pause.
const MAX_MARK_RESTARTS: u32 = 8;

/// Deliberate bugs, for tests of the verifier. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConcurrentFaults {
    /// Do not shade the overwritten value (no Yuasa deletion barrier).
    pub no_deletion_barrier: bool,
    /// Do not shade the new value from unscanned stacks (no Dijkstra half).
    pub no_insertion_barrier: bool,
    /// Allocate white during marking.
    pub allocate_white: bool,
    /// Scan the stacks before turning the barrier on.
    pub scan_stacks_before_barrier: bool,
    /// Mark termination does not wait for the slices still marking: it
    /// drains the shared grey queue while another slice may hold grey
    /// objects on its own stack, and sweeps their unscanned children.
    pub terminate_without_waiting_for_markers: bool,
    /// Not a bug: make background marking slow (a pause of this many
    /// microseconds per object and per stack scanned) so that mutators run
    /// many events while marking is under way — more interleavings for a
    /// stress test to try. (A test that needs one interleaving drives it
    /// with [`CycleHooks`] instead.)
    pub slow_mark_us: u64,
}

/// A Go-style concurrent cycle, marking with `M`.
pub struct GoCycle<M: MarkWork> {
    heap: Heap,
    /// How grey work is kept and scanned.
    work: M,
    pacer: Pacer,
    faults: ConcurrentFaults,
    /// Called around each step of a cycle, if set (tests).
    hooks: Option<Arc<dyn CycleHooks>>,
    /// The barrier is on (between sweep and mark termination).
    marking: AtomicBool,
    /// A cycle is between its trigger and its mark termination.
    in_cycle: AtomicBool,
    cycles: AtomicU64,
    /// The heap goal and the trigger the pacer set last.
    goal: AtomicU64,
    trigger: AtomicU64,
    /// Scan work done this cycle (bytes of pointer slots read, by
    /// background workers and assists) and bytes marked by tracing; and
    /// scan work expected (the last cycle's total), for the assist ratio.
    progress: MarkProgress,
    scan_expected: AtomicU64,
    /// Per goroutine, the cycle in which its stack was last scanned; sized
    /// once, at the first cycle, from the host's stack count (read without a
    /// lock by the barrier). A goroutine beyond it counts as never scanned:
    /// the barrier always shades for it and marking always scans it — safe,
    /// only less precise.
    scanned: OnceLock<Box<[AtomicU64]>>,
    /// The cycle past sweep termination whose concurrent mark is under way.
    pending: parking_lot::Mutex<Option<Pending>>,
    /// That cycle's number while its concurrent mark is under way (0: none):
    /// what a background slice reads to know there is marking to do.
    mark_cycle: AtomicU64,
    /// Its root jobs (the globals, then one per stack): how many there are,
    /// the next to claim, how many are done, and the root slots they read.
    root_jobs: AtomicUsize,
    next_root: AtomicUsize,
    roots_done: AtomicUsize,
    root_slots: AtomicU64,
    /// Background slices marking now. Mark termination waits for none (each
    /// gives its grey objects back to the shared queue before it leaves).
    markers: AtomicUsize,
    /// CPU time background slices spent marking this cycle.
    background_cpu_ns: AtomicU64,
    /// Scan work background slices did this cycle that no assist has
    /// claimed yet (Go's `bgScanCredit`): a goroutine's assist debt is paid
    /// from it first.
    background_credit: AtomicU64,
    /// Mark terminations this cycle that found more marking than their
    /// budget and restarted the world.
    mark_restarts: AtomicU32,
    /// The last cycle's record, waiting for its sweep to finish.
    sweeping: parking_lot::Mutex<Option<CycleRecord>>,
}

/// How a slice's part in the concurrent mark ended.
enum MarkEnd {
    /// Told to stop, with marking left.
    Yielded,
    /// Nothing left for this slice; others are still marking.
    Empty,
    /// This slice ran mark termination: the sweep is next.
    Terminated,
    /// No mark is under way.
    NoMark,
}

/// A cycle past sweep termination, waiting for its background mark.
struct Pending {
    trigger: Trigger,
    start_ns: u64,
    heap_live_before: u64,
    /// Host clock when the concurrent mark started.
    mark_start_ns: u64,
}

impl<M: MarkWork> GoCycle<M> {
    pub fn new(config: &GcConfig) -> Result<GoCycle<M>, HeapError> {
        GoCycle::with_faults(config, ConcurrentFaults::default())
    }

    /// A deliberately broken variant, for tests that prove the verifier
    /// catches it.
    #[doc(hidden)]
    pub fn with_faults(config: &GcConfig, faults: ConcurrentFaults) -> Result<GoCycle<M>, HeapError> {
        GoCycle::with_parts(config, faults, M::new(config))
    }

    /// The cycle with this marking (a plan's deliberately broken marking,
    /// in tests) and these cycle faults.
    #[doc(hidden)]
    pub fn with_parts(config: &GcConfig, faults: ConcurrentFaults, work: M) -> Result<GoCycle<M>, HeapError> {
        let heap = Heap::new(config.heap_reserve_bytes)?;
        let pacer = config.pacer();
        let goal = pacer.goal(0, 0);
        let trigger = pacer.concurrent_trigger(goal, 0, None);
        heap.set_trigger(if pacer.collects_on_its_own() { trigger } else { u64::MAX });
        Ok(GoCycle {
            heap,
            work,
            pacer,
            faults,
            hooks: None,
            marking: AtomicBool::new(false),
            in_cycle: AtomicBool::new(false),
            cycles: AtomicU64::new(0),
            goal: AtomicU64::new(goal),
            trigger: AtomicU64::new(trigger),
            progress: MarkProgress::new(faults.slow_mark_us),
            scan_expected: AtomicU64::new(0),
            scanned: OnceLock::new(),
            pending: parking_lot::Mutex::new(None),
            mark_cycle: AtomicU64::new(0),
            root_jobs: AtomicUsize::new(0),
            next_root: AtomicUsize::new(0),
            roots_done: AtomicUsize::new(0),
            root_slots: AtomicU64::new(0),
            markers: AtomicUsize::new(0),
            background_cpu_ns: AtomicU64::new(0),
            background_credit: AtomicU64::new(0),
            mark_restarts: AtomicU32::new(0),
            sweeping: parking_lot::Mutex::new(None),
        })
    }

    /// The same collector, calling `hooks` around each step of its cycles,
    /// so a test can hold it at a step boundary.
    #[doc(hidden)]
    pub fn with_cycle_hooks(mut self, hooks: Arc<dyn CycleHooks>) -> GoCycle<M> {
        self.hooks = Some(hooks);
        self
    }

    #[inline]
    fn before(&self, cycle: u64, step: CycleStep) {
        if let Some(h) = &self.hooks {
            h.before(cycle, step);
        }
    }

    #[inline]
    fn after(&self, cycle: u64, step: CycleStep) {
        if let Some(h) = &self.hooks {
            h.after(cycle, step);
        }
    }

    /// Greys the white heap object `v` points into, on the shared queues.
    /// Returns its bytes if this call marked it.
    #[inline]
    fn shade(&self, v: Address) -> u64 {
        self.work.shade(&self.heap, v)
    }

    /// Drains grey work: see [`MarkWork::drain`].
    fn drain(&self, who: Drainer, budget: u64, should_yield: &dyn Fn() -> bool) -> (u64, bool) {
        self.work.drain(&self.heap, who, budget, should_yield, &self.progress)
    }

    /// One step of an assist: at most [`ASSIST_STEP_BYTES`] of the debt.
    fn assist_step(&self, host: &dyn Host, m: &mut Mutator) -> u64 {
        // At most one step of it now, so the host reaches a safepoint soon;
        // the rest is owed at the next call. Nothing grey left: paid. Cut
        // short by a stop request: what is left stays owed.
        let step = m.assist_bytes.min(ASSIST_STEP_BYTES);
        let (done, stopped) = self.drain(Drainer::Assist, step, &|| host.stop_requested());
        m.assist_bytes = if stopped {
            m.assist_bytes - done.min(m.assist_bytes)
        } else if done < step {
            0
        } else {
            m.assist_bytes - step
        };
        done
    }

    /// Goroutine `g`'s scanned-in-cycle epoch, if it has one.
    #[inline]
    fn epoch(&self, g: usize) -> Option<&AtomicU64> {
        self.scanned.get().and_then(|s| s.get(g))
    }

    fn stack_is_grey(&self, g: usize) -> bool {
        let cycle = self.cycles.load(Ordering::Relaxed) + 1;
        self.epoch(g).is_none_or(|e| e.load(Ordering::Acquire) != cycle)
    }

    fn barrier(&self, m: &Mutator, old: Address, new: Address) {
        if !self.faults.no_deletion_barrier {
            self.shade(old);
        }
        if !self.faults.no_insertion_barrier && self.stack_is_grey(m.goroutine) {
            self.shade(new);
        }
    }

    /// Root job `t` of cycle `cycle`: 0 is the globals, `1 + g` goroutine
    /// g's stack (stopping only that goroutine; a stack already black this
    /// cycle — started during marking, or scanned early — is not scanned
    /// again).
    fn root_job(&self, host: &dyn Host, cycle: u64, t: usize) {
        let roots = host.roots();
        let (mut bytes, mut slots) = (0, 0);
        let mut visit = |s: &Slot, _: RootKind| {
            slots += 1;
            bytes += self.shade(s.load(Ordering::Relaxed));
        };
        if t == 0 {
            if self.faults.scan_stacks_before_barrier {
                // The broken variant: stacks first, the barrier on only
                // once they are scanned.
                for g in 0..roots.stack_count() {
                    self.before(cycle, CycleStep::Stack(g));
                    self.progress.slow();
                    roots.scan_stack(g, false, &mut visit);
                    if let Some(e) = self.epoch(g) {
                        e.store(cycle, Ordering::Release);
                    }
                    self.after(cycle, CycleStep::Stack(g));
                }
                self.marking.store(true, Ordering::Relaxed);
            }
            self.before(cycle, CycleStep::Globals);
            roots.scan_globals(&mut visit);
            self.after(cycle, CycleStep::Globals);
        } else {
            let g = t - 1;
            self.before(cycle, CycleStep::Stack(g));
            if self.epoch(g).is_none_or(|e| e.load(Ordering::Acquire) != cycle) {
                self.progress.slow();
                roots.scan_stack(g, true, &mut visit);
                if let Some(e) = self.epoch(g) {
                    e.store(cycle, Ordering::Release);
                }
            }
            self.after(cycle, CycleStep::Stack(g));
        }
        self.progress.add(slots * crate::heap::WORD_BYTES, bytes);
        self.root_slots.fetch_add(slots, Ordering::Relaxed);
    }

    /// One slice's share of the concurrent mark: root jobs while any are
    /// unclaimed (Go's markroot jobs), then the heap from the shared grey
    /// queue. The slice that leaves last, with every root job done and
    /// nothing grey, runs mark termination. Returns what is left: marking
    /// (told to stop), nothing for a slice (others still marking, or no
    /// mark under way), or — mark termination done — the sweep.
    fn mark_slice(&self, host: &dyn Host, should_yield: &dyn Fn() -> bool) -> MarkEnd {
        let cycle = self.mark_cycle.load(Ordering::SeqCst);
        if cycle == 0 {
            return MarkEnd::NoMark;
        }
        // Enter, then check the mark is still on: mark termination turns it
        // off before it waits for the markers, so each side sees the other
        // (both SeqCst).
        self.markers.fetch_add(1, Ordering::SeqCst);
        if self.mark_cycle.load(Ordering::SeqCst) != cycle {
            self.markers.fetch_sub(1, Ordering::SeqCst);
            return MarkEnd::NoMark;
        }
        let mut cpu0 = crate::cpu_time::thread_cpu_ns();
        let jobs = self.root_jobs.load(Ordering::Relaxed);
        let mut stopped = false;
        loop {
            while self.next_root.load(Ordering::Relaxed) < jobs {
                if should_yield() {
                    stopped = true;
                    break;
                }
                let t = self.next_root.fetch_add(1, Ordering::Relaxed);
                if t >= jobs {
                    break;
                }
                self.root_job(host, cycle, t);
                self.roots_done.fetch_add(1, Ordering::SeqCst);
            }
            if !stopped {
                self.before(cycle, CycleStep::Heap);
                let (work, yielded) = self.drain(Drainer::Background, u64::MAX, should_yield);
                self.background_credit.fetch_add(work, Ordering::Relaxed);
                stopped = yielded;
                self.after(cycle, CycleStep::Heap);
            }
            let cpu = crate::cpu_time::thread_cpu_ns();
            self.background_cpu_ns.fetch_add(cpu.saturating_sub(cpu0), Ordering::Relaxed);
            cpu0 = cpu;
            let last = self.markers.fetch_sub(1, Ordering::SeqCst) == 1;
            if stopped {
                return MarkEnd::Yielded;
            }
            if !last || self.roots_done.load(Ordering::SeqCst) < jobs {
                // Others still mark (or finish a root job): the last of
                // them terminates.
                return MarkEnd::Empty;
            }
            if !self.work.is_empty() {
                // The barrier shaded more since this slice looked: mark on.
                self.markers.fetch_add(1, Ordering::SeqCst);
                if self.mark_cycle.load(Ordering::SeqCst) == cycle {
                    continue;
                }
                self.markers.fetch_sub(1, Ordering::SeqCst);
                return MarkEnd::NoMark;
            }
            // Only one slice turns the mark off and terminates it.
            if self.mark_cycle.compare_exchange(cycle, 0, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                return MarkEnd::NoMark;
            }
            return if self.mark_termination(host, cycle) { MarkEnd::Terminated } else { MarkEnd::Yielded };
        }
    }

    /// Sweeps spans in the background (Go's `bgsweep`) until told to stop;
    /// the last span swept, reports the cycle — unless a new cycle's
    /// trigger got there first (it finishes the sweep). Returns whether
    /// sweeping is left.
    fn sweep_slice(&self, host: &dyn Host, should_yield: &dyn Fn() -> bool) -> bool {
        // The hook comes before the look at what is left, so that a test
        // holding the step sees the sweep in the state it lets it run in
        // (a new cycle's trigger may have finished it meanwhile).
        let cycle = self.cycles.load(Ordering::Acquire);
        self.before(cycle, CycleStep::Sweep);
        if self.sweeping.lock().is_none() {
            self.after(cycle, CycleStep::Sweep);
            return false;
        }
        let mut left = true;
        while !should_yield() {
            if !self.heap.sweep_one() {
                left = false;
                break;
            }
        }
        if !left && self.in_cycle.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            self.finish_sweep(host);
            self.in_cycle.store(false, Ordering::Release);
        }
        self.after(cycle, CycleStep::Sweep);
        left
    }

    /// Does the background work of the cycle under way on this thread,
    /// until cycle `cycle`'s mark is terminated (a host with no workers to
    /// run it, an explicit collection, or a thread that must wait for the
    /// cycle anyway). Slices stop for every stop the world; the thread
    /// yields its processor while another slice finishes.
    fn help_until_marked(&self, host: &dyn Host, cycle: u64) {
        while self.cycles.load(Ordering::Acquire) < cycle {
            self.background_slice(host, Work::Mark, &|| host.stop_requested());
            if self.cycles.load(Ordering::Acquire) < cycle {
                std::thread::yield_now();
            }
        }
    }

    /// Mark termination (stop the world): wait for the slices still
    /// marking to give their grey objects back, drain what is left (the
    /// barrier's shades), turn the barrier off, pace the next cycle, start
    /// the concurrent sweep. The caller turned `mark_cycle` off.
    fn mark_termination(&self, host: &dyn Host, cycle: u64) -> bool {
        self.before(cycle, CycleStep::MarkTermination);
        let stw = loop {
            if let Some(s) = host.stop_the_world(cycle, Phase::MarkTerm) {
                break s;
            }
        };
        // Every other slice polls its stop every few microseconds.
        while !self.faults.terminate_without_waiting_for_markers && self.markers.load(Ordering::SeqCst) > 0 {
            std::hint::spin_loop();
        }
        let cpu0 = crate::cpu_time::thread_cpu_ns();
        // What the slices and assists gave back, and what the barrier shaded
        // since the last slice looked, is drained here — for a budget of time.
        // More than that turned up (an assist was deep in a subtree when the
        // world stopped): as Go's gcMarkDone does when its flush finds work,
        // restart the world and go back to concurrent marking, rather than
        // marking it all in the pause. After a few such restarts the pause
        // takes whatever is left, so that the mark always ends.
        let restarts = self.mark_restarts.load(Ordering::Relaxed);
        let deadline = host.now_ns() + MARK_TERMINATION_BUDGET_NS;
        self.drain(Drainer::Termination, u64::MAX, &|| restarts < MAX_MARK_RESTARTS && host.now_ns() > deadline);
        if !self.work.is_empty() {
            self.mark_restarts.store(restarts + 1, Ordering::Relaxed);
            self.background_cpu_ns.fetch_add(crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0), Ordering::Relaxed);
            self.mark_cycle.store(cycle, Ordering::SeqCst);
            host.start_the_world(Stopped { phase: Phase::MarkRestart, ..stw });
            self.after(cycle, CycleStep::MarkTermination);
            return false;
        }
        let Some(Pending { trigger, start_ns, heap_live_before, mark_start_ns }) = self.pending.lock().take() else {
            unreachable!("a mark under way has its cycle pending")
        };
        let background_mark_cpu_ns = self.background_cpu_ns.load(Ordering::Relaxed);
        let mark_cpu_ns = background_mark_cpu_ns + crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
        let mark_ns = host.now_ns() - mark_start_ns;
        self.marking.store(false, Ordering::Relaxed);
        self.heap.set_allocate_black(false);
        let heap_live = self.heap.heap_live();
        // Marked: what tracing shaded plus what was allocated black meanwhile.
        let allocated = heap_live.saturating_sub(heap_live_before);
        let marked = self.progress.marked.load(Ordering::Relaxed) + allocated;
        let root_bytes = self.root_slots.load(Ordering::Relaxed) * crate::heap::WORD_BYTES;
        let goal = self.pacer.goal(marked, root_bytes);
        let next_trigger = self.pacer.concurrent_trigger(goal, marked, Some(allocated));
        self.goal.store(goal, Ordering::Relaxed);
        self.trigger.store(next_trigger, Ordering::Relaxed);
        self.scan_expected.store(self.progress.scan_done.load(Ordering::Relaxed), Ordering::Relaxed);
        // Until the sweep is done heap_live still counts the garbage it will
        // free: raise the trigger by that much meanwhile.
        let garbage = heap_live.saturating_sub(marked);
        self.heap.set_trigger(next_trigger.saturating_add(garbage));
        self.heap.start_concurrent_sweep(cycle, host.object_sink());
        self.sweeping.lock().replace(CycleRecord {
            cycle,
            trigger: Some(trigger),
            start_ns,
            end_ns: host.now_ns(),
            heap_live_before,
            marked_bytes: marked,
            marked_objects: 0,
            mark_ns,
            mark_cpu_ns,
            sweep_ns: 0,
            freed_bytes: 0,
            freed_objects: 0,
            next_goal: goal,
            background_mark_cpu_ns,
            extra: {
                let mut extra = Vec::new();
                self.work.cycle_metrics(&mut extra);
                extra
            },
            ..Default::default()
        });
        self.cycles.store(cycle, Ordering::Release);
        host.start_the_world(stw);
        self.in_cycle.store(false, Ordering::Release);
        self.after(cycle, CycleStep::MarkTermination);
        true
    }

    /// Finishes the last cycle's concurrent sweep (sweeping what is left on
    /// this thread), restores the trigger the sweep's garbage had raised,
    /// and reports the cycle.
    fn finish_sweep(&self, host: &dyn Host) {
        let stats = self.heap.finish_sweep();
        let Some(mut record) = self.sweeping.lock().take() else { return };
        self.heap.set_trigger(self.trigger.load(Ordering::Relaxed));
        let end = host.now_ns();
        record.sweep_ns = end.saturating_sub(record.end_ns);
        record.end_ns = end;
        record.freed_bytes = stats.freed_bytes;
        record.freed_objects = stats.freed_objects;
        record.marked_objects = stats.live_objects;
        record.heap_live_after = self.heap.heap_live();
        host.on_cycle(&record);
    }

    /// Starts a cycle: waits for a running one if `wait` (else gives up),
    /// finishes the last sweep, re-checks the trigger, and runs sweep
    /// termination. Returns the cycle, or `None` if none is to run.
    fn start_cycle(&self, host: &dyn Host, trigger: Trigger, wait: bool) -> Option<u64> {
        while self.in_cycle.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            if !wait {
                return None; // a cycle is already running
            }
            // Help it along (with one worker, nobody else would), then
            // look again.
            if host.waiter_may_help() {
                self.background_slice(host, Work::Mark, &|| host.stop_requested());
            }
            std::thread::yield_now();
        }
        // Go's gcStart: sweep what the last cycle left before marking.
        self.finish_sweep(host);
        if trigger == Trigger::HeapGoal && self.heap.heap_live() < self.trigger.load(Ordering::Relaxed) {
            self.in_cycle.store(false, Ordering::Release);
            return None;
        }
        let cycle = self.cycles.load(Ordering::Relaxed) + 1;

        // Sweep termination: barrier on, allocate black.
        self.before(cycle, CycleStep::SweepTermination);
        let Some(stw) = host.stop_the_world(cycle, Phase::SweepTerm) else {
            self.in_cycle.store(false, Ordering::Release);
            self.after(cycle, CycleStep::SweepTermination);
            return None;
        };
        let start_ns = stw.requested_ns;
        // A sweeper that was still finishing a span when we looked.
        self.heap.finish_sweep();
        let heap_live_before = self.heap.heap_live();
        self.scanned.get_or_init(|| (0..host.roots().stack_count()).map(|_| AtomicU64::new(0)).collect());
        let expected = self.scan_expected.load(Ordering::Relaxed);
        // Before the first cycle, expect everything to be live.
        self.scan_expected.store(if cycle == 1 { heap_live_before } else { expected }, Ordering::Relaxed);
        self.progress.scan_done.store(0, Ordering::Relaxed);
        self.progress.marked.store(0, Ordering::Relaxed);
        self.work.begin_cycle();
        if !self.faults.scan_stacks_before_barrier {
            self.marking.store(true, Ordering::Relaxed);
        }
        self.heap.set_allocate_black(!self.faults.allocate_white);
        self.root_jobs.store(1 + host.roots().stack_count(), Ordering::Relaxed);
        self.next_root.store(0, Ordering::Relaxed);
        self.roots_done.store(0, Ordering::Relaxed);
        self.root_slots.store(0, Ordering::Relaxed);
        self.background_cpu_ns.store(0, Ordering::Relaxed);
        self.background_credit.store(0, Ordering::Relaxed);
        self.mark_restarts.store(0, Ordering::Relaxed);
        let mark_start_ns = host.now_ns();
        self.pending.lock().replace(Pending { trigger, start_ns, heap_live_before, mark_start_ns });
        self.mark_cycle.store(cycle, Ordering::SeqCst);
        host.start_the_world(stw);
        self.after(cycle, CycleStep::SweepTermination);
        Some(cycle)
    }
}

impl<M: MarkWork> Collector for GoCycle<M> {
    fn name(&self) -> &'static str {
        M::NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            concurrent: true,
            needs_write_barrier: true,
            barrier_on_globals: true,
            ..Capabilities::default()
        }
    }

    fn heap(&self) -> &Heap {
        &self.heap
    }

    #[inline]
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        let a = crate::collector::alloc_with_trigger(&self.heap, m, size, ptr_slots)?;
        if self.marking.load(Ordering::Relaxed) {
            m.alloc_debt += size;
            if m.alloc_debt >= ASSIST_CHUNK_BYTES {
                let left = self
                    .scan_expected
                    .load(Ordering::Relaxed)
                    .saturating_sub(self.progress.scan_done.load(Ordering::Relaxed));
                let ratio = Pacer::assist_ratio(left, self.heap.heap_live(), self.goal.load(Ordering::Relaxed));
                m.assist_bytes += (std::mem::take(&mut m.alloc_debt) as f64 * ratio) as u64;
            }
        }
        Ok(a)
    }

    fn assist(&self, host: &dyn Host, m: &mut Mutator) -> u64 {
        if !self.marking.load(Ordering::Relaxed) {
            m.assist_bytes = 0;
            return 0;
        }
        // Go's gcAssistAlloc: first pay with the scan work background
        // marking has banked, and mark only for what is left.
        let credit = self
            .background_credit
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c - c.min(m.assist_bytes)))
            .unwrap_or(0);
        m.assist_bytes -= credit.min(m.assist_bytes);
        if m.assist_bytes == 0 {
            return 0;
        }
        // How many goroutines assist at once is the host's to limit (it sees
        // the processors; the replay: `Scheduler::try_begin_assist`).
        self.assist_step(host, m)
    }

    #[inline]
    fn write_pointer(&self, m: &mut Mutator, slot: Address, value: Address) {
        if self.marking.load(Ordering::Relaxed) {
            let old = self.heap.load(slot).unwrap_or(0);
            self.barrier(m, old, value);
        }
        self.heap.store(slot, value);
    }

    fn write_global(&self, m: &mut Mutator, slot: &Slot, value: Address) {
        if self.marking.load(Ordering::Relaxed) {
            self.barrier(m, slot.load(Ordering::Relaxed), value);
        }
        slot.store(value, Ordering::Relaxed);
    }

    fn on_spawn(&self, _m: &mut Mutator, child: usize, args: &[Address]) {
        if self.marking.load(Ordering::Relaxed) {
            for &a in args {
                self.shade(a);
            }
            if let Some(e) = self.epoch(child) {
                e.store(self.cycles.load(Ordering::Relaxed) + 1, Ordering::Release);
            }
        }
    }

    fn collect(&self, host: &dyn Host, trigger: Trigger) {
        // Like Go's runtime.GC(), an explicit (or the final) collection waits
        // for a running cycle, then runs a whole one and its sweep.
        let whole = trigger != Trigger::HeapGoal;
        let Some(cycle) = self.start_cycle(host, trigger, whole) else { return };
        if whole || !host.request_background(Work::Mark) {
            self.help_until_marked(host, cycle);
        }
        if whole {
            self.finish_sweep(host);
        }
    }

    fn background_slice(&self, host: &dyn Host, work: Work, should_yield: &dyn Fn() -> bool) -> SliceEnd {
        match work {
            Work::Mark => match self.mark_slice(host, should_yield) {
                MarkEnd::Yielded => SliceEnd::Yielded(Work::Mark),
                MarkEnd::Empty => SliceEnd::Done,
                // The sweep is left for workers with nothing else to run
                // (whether a new cycle's trigger has finished it meanwhile
                // is for the sweep's slice to see).
                MarkEnd::Terminated => SliceEnd::Yielded(Work::Sweep),
                MarkEnd::NoMark if self.sweeping.lock().is_some() => SliceEnd::Yielded(Work::Sweep),
                MarkEnd::NoMark => SliceEnd::Done,
            },
            Work::Sweep => {
                if self.sweep_slice(host, should_yield) {
                    SliceEnd::Yielded(Work::Sweep)
                } else {
                    SliceEnd::Done
                }
            }
        }
    }

    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }
}
