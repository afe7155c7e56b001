//! `concurrent`: Go-style concurrent tri-color mark-sweep.
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
//! 2. **Concurrent mark**, on the host's background thread
//!    ([`Host::request_background`]; `collect` returns after step 1):
//!    background mark workers (the collector's own threads, a quarter of
//!    `procs`, at least one, at most [`crate::collector::gc_threads`]) scan
//!    the globals, then each goroutine's stack
//!    one at a time — stopping only that goroutine — then trace the heap
//!    from a shared grey queue, while the mutators run. A mutator that
//!    allocates while marking runs into debt; past [`ASSIST_CHUNK_BYTES`] it
//!    pays by marking in proportion (a *mark assist*, at its next event
//!    boundary: [`Collector::assist`]), at the pacer's assist ratio — the
//!    marking left over the heap runway left — so marking ends before the
//!    heap reaches the goal.
//! 3. **Mark termination** (stop the world): drain what the barrier shaded
//!    meanwhile, turn the barrier off, set the next goal and trigger, and
//!    start a concurrent sweep ([`Heap::start_concurrent_sweep`]: O(1), no
//!    span is visited); restart the world.
//! 4. **Concurrent sweep**: spans are swept lazily by allocation and by the
//!    background thread (Go's `bgsweep`); the cycle's record is written
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
//! catches each deliberately broken variant of [`ConcurrentFaults`] on a
//! trace replayed in the one interleaving that exposes it (held there by
//! [`CycleHooks`] at the collector's steps and the replayer's hooks at the
//! mutators' events); the protocol itself is model-checked in
//! `collectors/tests/barrier_model.rs`.

use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::cycle_hooks::{CycleHooks, CycleStep};
use crate::heap::{Address, Heap, HeapError};
use crate::host::{CycleRecord, Host, Phase, RootKind, Slot, Trigger};
use crate::pacer::Pacer;
use crossbeam_deque::{Injector, Steal};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Share of `procs` given to background mark workers
/// (`gcBackgroundUtilization`, runtime/mgcpacer.go).
const BACKGROUND_UTILIZATION: f64 = 0.25;

/// A mutator's allocation debt is settled by an assist once it reaches this
/// many bytes (Go's `gcOverAssistWork` batches assists likewise).
pub const ASSIST_CHUNK_BYTES: u64 = 64 << 10;

/// The most marking one call of [`Collector::assist`] does, so a goroutine
/// in a long assist still reaches a safepoint often (Go's assists are
/// preemptible too).
pub const ASSIST_STEP_BYTES: u64 = 256 << 10;

/// Grey objects a marker keeps on its own stack before it shares half.
const LOCAL_GREY_MAX: usize = 1024;

/// Grey objects a marker scans between reports of its progress to the pacer.
const PROGRESS_EVERY_OBJECTS: u32 = 256;

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
    /// Not a bug: make background marking slow (a pause of this many
    /// microseconds per object and per stack scanned) so that mutators run
    /// many events while marking is under way — more interleavings for a
    /// stress test to try. (A test that needs one interleaving drives it
    /// with [`CycleHooks`] instead.)
    pub slow_mark_us: u64,
}

/// The concurrent collector.
pub struct Concurrent {
    heap: Heap,
    pacer: Pacer,
    pool: rayon::ThreadPool,
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
    /// background workers and assists) and expected (the last cycle's
    /// total), for the assist ratio; and bytes marked by tracing.
    scan_done: AtomicU64,
    scan_expected: AtomicU64,
    marked: AtomicU64,
    /// Goroutines assisting now, and the most allowed at once (half of
    /// `procs`, at least one): a stand-in for Go's GC CPU limiter
    /// (runtime/mgclimit.go), which stops assists from taking more than half
    /// the CPU.
    assisting: AtomicUsize,
    max_assisting: usize,
    /// Grey objects: pushed by marking and by the barrier.
    grey: Injector<Address>,
    /// Per goroutine, the cycle in which its stack was last scanned; sized
    /// once, at the first cycle, from the host's stack count (read without a
    /// lock by the barrier). A goroutine beyond it counts as never scanned:
    /// the barrier always shades for it and marking always scans it — safe,
    /// only less precise.
    scanned: OnceLock<Box<[AtomicU64]>>,
    /// The cycle whose marking the background work is to do.
    pending: parking_lot::Mutex<Option<Pending>>,
    /// The last cycle's record, waiting for its sweep to finish.
    sweeping: parking_lot::Mutex<Option<CycleRecord>>,
}

/// A cycle past sweep termination, waiting for its background mark.
struct Pending {
    cycle: u64,
    trigger: Trigger,
    start_ns: u64,
    heap_live_before: u64,
}

impl Concurrent {
    pub fn new(config: &GcConfig) -> Result<Concurrent, HeapError> {
        Concurrent::with_faults(config, ConcurrentFaults::default())
    }

    /// A deliberately broken variant, for tests that prove the verifier
    /// catches it.
    #[doc(hidden)]
    pub fn with_faults(config: &GcConfig, faults: ConcurrentFaults) -> Result<Concurrent, HeapError> {
        let heap = Heap::new(config.heap_reserve_bytes)?;
        let pacer = config.pacer();
        let goal = pacer.goal(0, 0);
        let trigger = pacer.concurrent_trigger(goal, 0, None);
        heap.set_trigger(if pacer.collects_on_its_own() { trigger } else { u64::MAX });
        let workers =
            crate::collector::gc_threads(((config.procs as f64 * BACKGROUND_UTILIZATION).round() as usize).max(1));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("concurrent-mark-{i}"))
            .build()
            .expect("cannot start GC worker threads");
        Ok(Concurrent {
            heap,
            pacer,
            pool,
            faults,
            hooks: None,
            marking: AtomicBool::new(false),
            in_cycle: AtomicBool::new(false),
            cycles: AtomicU64::new(0),
            goal: AtomicU64::new(goal),
            trigger: AtomicU64::new(trigger),
            scan_done: AtomicU64::new(0),
            scan_expected: AtomicU64::new(0),
            marked: AtomicU64::new(0),
            assisting: AtomicUsize::new(0),
            max_assisting: (config.procs / 2).max(1),
            grey: Injector::new(),
            scanned: OnceLock::new(),
            pending: parking_lot::Mutex::new(None),
            sweeping: parking_lot::Mutex::new(None),
        })
    }

    /// The same collector, calling `hooks` around each step of its cycles,
    /// so a test can hold it at a step boundary.
    #[doc(hidden)]
    pub fn with_cycle_hooks(mut self, hooks: Arc<dyn CycleHooks>) -> Concurrent {
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

    /// Greys the white heap object `v` points into, on the shared queue.
    /// Returns its bytes if this call marked it.
    #[inline]
    fn shade(&self, v: Address) -> u64 {
        let mut one = None;
        let bytes = self.mark_white(v, &mut one);
        if let Some(a) = one {
            self.grey.push(a);
        }
        bytes
    }

    /// Greys the white heap object `v` points into, on `local`.
    #[inline]
    fn shade_into(&self, v: Address, local: &mut Vec<Address>) -> u64 {
        let mut one = None;
        let bytes = self.mark_white(v, &mut one);
        local.extend(one);
        bytes
    }

    /// Marks the white heap object `v` points into; sets `grey` to it if it
    /// has pointer slots to scan. Returns its bytes if this call marked it.
    #[inline]
    fn mark_white(&self, v: Address, grey: &mut Option<Address>) -> u64 {
        if v == 0 {
            return 0;
        }
        let Some(o) = self.heap.find_object(v) else { return 0 };
        if o.is_allocated() && o.try_mark() {
            if !o.is_noscan() {
                *grey = Some(o.base());
            }
            return o.elem_bytes();
        }
        0
    }

    /// One step of an assist: at most [`ASSIST_STEP_BYTES`] of the debt.
    fn assist_step(&self, m: &mut Mutator) -> u64 {
        // At most one step of it now, so the host reaches a safepoint soon;
        // the rest is owed at the next call. Nothing grey left: paid.
        let step = m.assist_bytes.min(ASSIST_STEP_BYTES);
        let done = self.drain(step);
        m.assist_bytes = if done < step { 0 } else { m.assist_bytes - step };
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

    fn slow(&self) {
        if self.faults.slow_mark_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(self.faults.slow_mark_us));
        }
    }

    /// Scans grey objects until there are none or `budget` bytes of scan
    /// work (pointer words read, as Go's `scanWork` counts) are done;
    /// returns the scan work done. Both it and the bytes newly marked go to
    /// the pacer's counters as they accrue.
    ///
    /// The children an object greys go on this thread's own stack (Go's
    /// per-P `gcWork` buffers), not the shared queue: no contention per
    /// object, and no waiting on another thread's half-finished push. When
    /// the stack grows past [`LOCAL_GREY_MAX`], half of it is shared; what
    /// is left when the budget runs out goes back to the shared queue.
    fn drain(&self, budget: u64) -> u64 {
        let mut local: Vec<Address> = Vec::new();
        let (mut work, mut marked, mut objects) = (0, 0, 0u32);
        let (mut work_reported, mut marked_reported) = (0, 0);
        while work < budget {
            let a = match local.pop() {
                Some(a) => a,
                None => match self.grey.steal() {
                    Steal::Success(a) => a,
                    Steal::Retry => continue,
                    Steal::Empty => break,
                },
            };
            self.slow();
            if let Some(o) = self.heap.find_object(a) {
                let words = o.pointer_words();
                work += words.len() as u64 * crate::heap::WORD_BYTES;
                for w in words {
                    marked += self.shade_into(w.load(Ordering::Relaxed), &mut local);
                }
            }
            if local.len() > LOCAL_GREY_MAX {
                for a in local.drain(..LOCAL_GREY_MAX / 2) {
                    self.grey.push(a);
                }
            }
            objects += 1;
            if objects.is_multiple_of(PROGRESS_EVERY_OBJECTS) {
                self.scan_done.fetch_add(work - work_reported, Ordering::Relaxed);
                self.marked.fetch_add(marked - marked_reported, Ordering::Relaxed);
                (work_reported, marked_reported) = (work, marked);
            }
        }
        for a in local {
            self.grey.push(a);
        }
        self.scan_done.fetch_add(work - work_reported, Ordering::Relaxed);
        self.marked.fetch_add(marked - marked_reported, Ordering::Relaxed);
        work
    }

    /// The concurrent phase: globals, then each stack (stopping only its
    /// goroutine), then the heap, on the background workers. Returns the
    /// bytes of root slots scanned and the workers' CPU time.
    fn mark_concurrently(&self, host: &dyn Host, cycle: u64) -> (u64, u64) {
        let roots = host.roots();
        let tasks = 1 + roots.stack_count();
        let next = AtomicUsize::new(0);
        let root_slots = AtomicU64::new(0);
        let cpu_ns = AtomicU64::new(0);
        self.pool.broadcast(|_| {
            let cpu0 = crate::cpu_time::thread_cpu_ns();
            let (mut bytes, mut slots) = (0, 0);
            loop {
                let t = next.fetch_add(1, Ordering::Relaxed);
                if t >= tasks {
                    break;
                }
                let mut visit = |s: &Slot, _: RootKind| {
                    slots += 1;
                    bytes += self.shade(s.load(Ordering::Relaxed));
                };
                if t == 0 {
                    self.before(cycle, CycleStep::Globals);
                    if self.faults.scan_stacks_before_barrier {
                        // The broken variant's barrier, on only now.
                        self.marking.store(true, Ordering::Relaxed);
                    }
                    roots.scan_globals(&mut visit);
                    self.after(cycle, CycleStep::Globals);
                } else {
                    let g = t - 1;
                    self.before(cycle, CycleStep::Stack(g));
                    // Stacks already black this cycle (started during marking,
                    // or scanned early) are not scanned again.
                    if self.epoch(g).is_none_or(|e| e.load(Ordering::Acquire) != cycle) {
                        self.slow();
                        roots.scan_stack(g, true, &mut visit);
                        if let Some(e) = self.epoch(g) {
                            e.store(cycle, Ordering::Release);
                        }
                    }
                    self.after(cycle, CycleStep::Stack(g));
                }
            }
            // Roots first (Go's markroot jobs), then the heap. (The roots'
            // work is reported in the heap step: for a hook, nothing the
            // mutators can see changes between steps.)
            self.before(cycle, CycleStep::Heap);
            self.marked.fetch_add(bytes, Ordering::Relaxed);
            self.scan_done.fetch_add(slots * crate::heap::WORD_BYTES, Ordering::Relaxed);
            root_slots.fetch_add(slots, Ordering::Relaxed);
            self.drain(u64::MAX);
            self.after(cycle, CycleStep::Heap);
            cpu_ns.fetch_add(crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0), Ordering::Relaxed);
        });
        (root_slots.into_inner() * crate::heap::WORD_BYTES, cpu_ns.into_inner())
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
        self.scan_done.store(0, Ordering::Relaxed);
        self.marked.store(0, Ordering::Relaxed);
        if !self.faults.scan_stacks_before_barrier {
            self.marking.store(true, Ordering::Relaxed);
        }
        self.heap.set_allocate_black(!self.faults.allocate_white);
        host.start_the_world(stw);
        self.pending.lock().replace(Pending { cycle, trigger, start_ns, heap_live_before });
        self.after(cycle, CycleStep::SweepTermination);
        Some(cycle)
    }
}

impl Collector for Concurrent {
    fn name(&self) -> &'static str {
        "concurrent"
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
                let left =
                    self.scan_expected.load(Ordering::Relaxed).saturating_sub(self.scan_done.load(Ordering::Relaxed));
                let ratio = Pacer::assist_ratio(left, self.heap.heap_live(), self.goal.load(Ordering::Relaxed));
                m.assist_bytes += (std::mem::take(&mut m.alloc_debt) as f64 * ratio) as u64;
            }
        }
        Ok(a)
    }

    fn assist(&self, m: &mut Mutator) -> u64 {
        if !self.marking.load(Ordering::Relaxed) {
            m.assist_bytes = 0;
            return 0;
        }
        // The limiter: at most half the workers assist at once; the others
        // keep their debt for their next turn and run on meanwhile.
        if self.assisting.fetch_add(1, Ordering::AcqRel) >= self.max_assisting {
            self.assisting.fetch_sub(1, Ordering::AcqRel);
            return 0;
        }
        let done = self.assist_step(m);
        self.assisting.fetch_sub(1, Ordering::AcqRel);
        done
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
        if self.start_cycle(host, trigger, whole).is_none() {
            return;
        }
        if whole || !host.request_background() {
            self.background(host);
        }
        if whole {
            self.finish_sweep(host);
        }
    }

    fn background(&self, host: &dyn Host) {
        let Some(Pending { cycle, trigger, start_ns, heap_live_before }) = self.pending.lock().take() else { return };
        // Concurrent mark.
        let t_mark = host.now_ns();
        if self.faults.scan_stacks_before_barrier {
            // The broken variant: stacks first, the barrier on only when the
            // globals are scanned (in `mark_concurrently`).
            let roots = host.roots();
            for g in 0..roots.stack_count() {
                self.before(cycle, CycleStep::Stack(g));
                self.slow();
                roots.scan_stack(g, false, &mut |s, _| {
                    self.shade(s.load(Ordering::Relaxed));
                });
                if let Some(e) = self.epoch(g) {
                    e.store(cycle, Ordering::Release);
                }
                self.after(cycle, CycleStep::Stack(g));
            }
        }
        let (root_bytes, background_mark_cpu_ns) = self.mark_concurrently(host, cycle);
        let mut mark_cpu_ns = background_mark_cpu_ns;

        // Mark termination: drain what the barrier shaded, barrier off, pace
        // the next cycle, start the concurrent sweep.
        self.before(cycle, CycleStep::MarkTermination);
        let stw = loop {
            if let Some(s) = host.stop_the_world(cycle, Phase::MarkTerm) {
                break s;
            }
        };
        let cpu0 = crate::cpu_time::thread_cpu_ns();
        self.drain(u64::MAX);
        mark_cpu_ns += crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
        let mark_ns = host.now_ns() - t_mark;
        self.marking.store(false, Ordering::Relaxed);
        self.heap.set_allocate_black(false);
        let heap_live = self.heap.heap_live();
        // Marked: what tracing shaded plus what was allocated black meanwhile.
        let allocated = heap_live.saturating_sub(heap_live_before);
        let marked = self.marked.load(Ordering::Relaxed) + allocated;
        let goal = self.pacer.goal(marked, root_bytes);
        let next_trigger = self.pacer.concurrent_trigger(goal, marked, Some(allocated));
        self.goal.store(goal, Ordering::Relaxed);
        self.trigger.store(next_trigger, Ordering::Relaxed);
        self.scan_expected.store(self.scan_done.load(Ordering::Relaxed), Ordering::Relaxed);
        // Until the sweep is done heap_live still counts the garbage it will
        // free: raise the trigger by that much meanwhile.
        let garbage = heap_live.saturating_sub(marked);
        self.heap.set_trigger(next_trigger.saturating_add(garbage));
        self.heap.start_concurrent_sweep(cycle, host.object_sink());
        self.cycles.store(cycle, Ordering::Relaxed);
        let end_ns = host.now_ns();
        host.start_the_world(stw);
        self.sweeping.lock().replace(CycleRecord {
            cycle,
            trigger: Some(trigger),
            start_ns,
            end_ns,
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
            ..Default::default()
        });
        self.in_cycle.store(false, Ordering::Release);
        self.after(cycle, CycleStep::MarkTermination);

        // Background sweeping (Go's bgsweep), then the cycle's record — unless
        // a new cycle's trigger got there first (it finishes the sweep).
        // One span at a time, yielding the processor in between: the
        // sweeper runs beside the mutators, not instead of them.
        self.before(cycle, CycleStep::Sweep);
        while self.heap.sweep_one() {
            std::thread::yield_now();
        }
        if self.in_cycle.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            self.finish_sweep(host);
            self.in_cycle.store(false, Ordering::Release);
        }
        self.after(cycle, CycleStep::Sweep);
    }

    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }
}
