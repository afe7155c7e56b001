//! `concurrent`: Go-style concurrent tri-color mark-sweep (first version).
//!
//! One cycle, as Go's runtime/mgc.go runs it:
//! 1. **Sweep termination** (stop the world): turn the write barrier on and
//!    make allocation black; restart the world.
//! 2. **Concurrent mark**: background mark workers (the collector's own
//!    threads, about a quarter of `procs`, at least one) scan the globals
//!    and then each goroutine's stack one at a time — stopping only that
//!    goroutine — and trace the heap from a shared grey queue, while the
//!    mutators run, on the host's background thread
//!    ([`Host::request_background`]); `collect` returns after step 1.
//! 3. **Mark termination** (stop the world): drain what the barrier shaded
//!    meanwhile, turn the barrier off, sweep, set the next goal (GOGC, as
//!    `mark-sweep` does); restart the world. (Sweeping is not yet
//!    concurrent.)
//!
//! The barrier is Go's hybrid barrier (runtime/mbarrier.go):
//! `shade(*slot); if current stack is grey { shade(ptr) }; *slot = ptr`,
//! on every heap pointer store and — because gcwb's globals are roots
//! scanned once, concurrently — on every global store too. Stack stores
//! take no barrier. A goroutine started during marking gets its arguments
//! shaded and its new stack counts as scanned (black).
//!
//! **Status: a first version.** It is clean under the verifier on random
//! traces with four workers and on every workload
//! (`harness/tests/concurrent.rs`, `harness/tests/workloads.rs`), and the
//! verifier catches its deliberately broken variants (no deletion barrier,
//! no insertion barrier, stacks scanned before the barrier is on — on
//! traces timed against a slowed marker — and white allocation). Still to come: the pacer's early trigger, mark
//! assists, concurrent sweep, `--memlimit`; the goroutine whose allocation
//! started a cycle does not wait for the mark (the host runs it on its
//! background thread, [`Host::request_background`]).
//!
//! Invariant (the weak tri-color invariant Go's proof rests on): every
//! white object a black object or black stack points to is reachable from
//! a grey object or grey stack through white objects; the deletion half of
//! the barrier keeps such paths from being cut, the insertion half covers
//! pointers written by goroutines whose stacks are not yet scanned.
//! Objects allocated during marking are black. So everything reachable at
//! the start of marking, or allocated since, is marked at mark termination,
//! and only objects dead before the cycle began are swept.

use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::heap::{Address, Heap, HeapError};
use crate::host::{CycleRecord, Host, Phase, RootKind, Slot, Trigger};
use crossbeam_deque::{Injector, Steal};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Share of `procs` given to background mark workers
/// (`gcBackgroundUtilization`, runtime/mgcpacer.go).
const BACKGROUND_UTILIZATION: f64 = 0.25;

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
    /// many events while marking is under way — the window in which barrier
    /// bugs can show.
    pub slow_mark_us: u64,
}

/// The concurrent collector.
pub struct Concurrent {
    heap: Heap,
    config: GcConfig,
    pool: rayon::ThreadPool,
    faults: ConcurrentFaults,
    /// The barrier is on (between sweep and mark termination).
    marking: AtomicBool,
    /// A cycle is under way (only one at a time).
    in_cycle: AtomicBool,
    cycles: AtomicU64,
    goal: AtomicU64,
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
        let goal = config.min_heap_goal;
        heap.set_trigger(if config.gogc.is_some() { goal } else { u64::MAX });
        let workers = ((config.procs as f64 * BACKGROUND_UTILIZATION).round() as usize).max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("concurrent-mark-{i}"))
            .build()
            .expect("cannot start GC worker threads");
        Ok(Concurrent {
            heap,
            config: config.clone(),
            pool,
            faults,
            marking: AtomicBool::new(false),
            in_cycle: AtomicBool::new(false),
            cycles: AtomicU64::new(0),
            goal: AtomicU64::new(goal),
            grey: Injector::new(),
            scanned: OnceLock::new(),
            pending: parking_lot::Mutex::new(None),
        })
    }

    fn next_goal(&self, marked: u64, roots: u64) -> u64 {
        match self.config.gogc {
            None => u64::MAX,
            Some(gogc) => (marked + (marked + roots).saturating_mul(gogc as u64) / 100).max(self.config.min_heap_goal),
        }
    }

    /// Greys the white heap object `v` points into. Returns its bytes if
    /// this call marked it.
    #[inline]
    fn shade(&self, v: Address) -> u64 {
        if v == 0 {
            return 0;
        }
        let Some(o) = self.heap.find_object(v) else { return 0 };
        if o.is_allocated() && o.try_mark() {
            if !o.is_noscan() {
                self.grey.push(o.base());
            }
            return o.elem_bytes();
        }
        0
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

    /// Scans grey objects until the queue is empty; returns bytes marked.
    fn drain(&self) -> u64 {
        let mut bytes = 0;
        loop {
            match self.grey.steal() {
                Steal::Success(a) => {
                    self.slow();
                    if let Some(o) = self.heap.find_object(a) {
                        for w in o.pointer_words() {
                            bytes += self.shade(w.load(Ordering::Relaxed));
                        }
                    }
                }
                Steal::Retry => continue,
                Steal::Empty => return bytes,
            }
        }
    }

    /// The concurrent phase: globals, then each stack (stopping only its
    /// goroutine), then the heap, on the background workers.
    fn mark_concurrently(&self, host: &dyn Host, cycle: u64) -> (u64, u64) {
        let roots = host.roots();
        let tasks = 1 + roots.stack_count();
        let next = AtomicUsize::new(0);
        let marked = AtomicU64::new(0);
        let root_slots = AtomicU64::new(0);
        self.pool.broadcast(|_| {
            let mut bytes = 0;
            let mut slots = 0;
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
                    roots.scan_globals(&mut visit);
                } else {
                    let g = t - 1;
                    // Stacks already black this cycle (started during marking,
                    // or scanned early) are not scanned again.
                    if self.epoch(g).is_some_and(|e| e.load(Ordering::Acquire) == cycle) {
                        continue;
                    }
                    self.slow();
                    roots.scan_stack(g, true, &mut visit);
                    if let Some(e) = self.epoch(g) {
                        e.store(cycle, Ordering::Release);
                    }
                }
            }
            // Roots first (Go's markroot jobs), then the heap.
            bytes += self.drain();
            marked.fetch_add(bytes, Ordering::Relaxed);
            root_slots.fetch_add(slots, Ordering::Relaxed);
        });
        (marked.into_inner(), root_slots.into_inner())
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
        let a = self.heap.alloc(&mut m.cache, size, ptr_slots)?;
        if m.cache.take_trigger() && self.config.gogc.is_some() {
            m.gc_wanted = Some(Trigger::HeapGoal);
        }
        Ok(a)
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
        if self.in_cycle.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return; // a cycle is already running
        }
        if trigger == Trigger::HeapGoal && self.heap.heap_live() < self.goal.load(Ordering::Relaxed) {
            self.in_cycle.store(false, Ordering::Release);
            return;
        }
        let cycle = self.cycles.load(Ordering::Relaxed) + 1;

        // Sweep termination: barrier on, allocate black.
        let Some(stw) = host.stop_the_world(cycle, Phase::SweepTerm) else {
            self.in_cycle.store(false, Ordering::Release);
            return;
        };
        let start_ns = stw.requested_ns;
        let heap_live_before = self.heap.heap_live();
        self.scanned.get_or_init(|| (0..host.roots().stack_count()).map(|_| AtomicU64::new(0)).collect());
        let barrier_now = !self.faults.scan_stacks_before_barrier;
        if barrier_now {
            self.marking.store(true, Ordering::Relaxed);
        }
        self.heap.set_allocate_black(!self.faults.allocate_white);
        host.start_the_world(stw);

        self.pending.lock().replace(Pending { cycle, trigger, start_ns, heap_live_before });
        if !host.request_background() {
            self.background(host);
        }
    }

    fn background(&self, host: &dyn Host) {
        let Some(Pending { cycle, trigger, start_ns, heap_live_before }) = self.pending.lock().take() else { return };
        let barrier_now = !self.faults.scan_stacks_before_barrier;
        // Concurrent mark.
        let t_mark = host.now_ns();
        if !barrier_now {
            // The broken variant: stacks first, barrier after.
            let roots = host.roots();
            for g in 0..roots.stack_count() {
                self.slow();
                roots.scan_stack(g, false, &mut |s, _| {
                    self.shade(s.load(Ordering::Relaxed));
                });
                if let Some(e) = self.epoch(g) {
                    e.store(cycle, Ordering::Release);
                }
            }
            self.marking.store(true, Ordering::Relaxed);
        }
        let (mut marked, root_slots) = self.mark_concurrently(host, cycle);

        // Mark termination: drain what the barrier shaded, barrier off, sweep.
        let stw = loop {
            if let Some(s) = host.stop_the_world(cycle, Phase::MarkTerm) {
                break s;
            }
        };
        marked += self.drain();
        let mark_ns = host.now_ns() - t_mark;
        self.marking.store(false, Ordering::Relaxed);
        self.heap.set_allocate_black(false);
        let t_sweep = host.now_ns();
        let swept = if host.wants_frees() {
            self.heap.sweep(Some(&mut |a| host.on_free(cycle, a)))
        } else {
            self.heap.sweep(None)
        };
        let sweep_ns = host.now_ns() - t_sweep;
        let goal = self.next_goal(swept.live_bytes, root_slots * 8);
        self.goal.store(goal, Ordering::Relaxed);
        self.heap.set_trigger(goal);
        self.cycles.store(cycle, Ordering::Relaxed);
        host.start_the_world(stw);
        self.in_cycle.store(false, Ordering::Release);
        host.on_cycle(&CycleRecord {
            cycle,
            trigger: Some(trigger),
            start_ns,
            end_ns: host.now_ns(),
            heap_live_before,
            marked_bytes: marked.max(swept.live_bytes),
            marked_objects: swept.live_objects,
            mark_ns,
            sweep_ns,
            freed_bytes: swept.freed_bytes,
            freed_objects: swept.freed_objects,
            next_goal: goal,
        });
    }

    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }
}
