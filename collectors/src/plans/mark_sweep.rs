//! `mark-sweep`: stop-the-world, non-moving, parallel mark and sweep.
//!
//! The algorithm, one cycle:
//! 1. A mutator's allocation pushes `heapLive` past the trigger (or the
//!    program calls `runtime.GC()`); at its next safepoint it asks the host
//!    to stop the world.
//! 2. With every goroutine stopped, the P GC workers mark in parallel from
//!    the roots — globals, then each goroutine's stack (its frame locals and
//!    stack blocks' pointer slots) — tracing pointer slots through the heap
//!    ([`crate::mark`]). Interior pointers keep their whole block alive.
//!    Sparse stacks are halved while they are scanned.
//! 3. The heap is swept: every allocated, unmarked object is freed, spans
//!    with nothing left return their pages.
//! 4. The next goal is set, as Go's pacer does ([`crate::pacer`]): `marked +
//!    (marked + stacks + globals) · GOGC/100`, at least the 4 MiB minimum,
//!    at most the soft memory limit; the world restarts.
//!
//! Invariant: at the pause every object reachable from the roots is marked
//! before anything is swept, and no mutator runs during the pause, so no
//! reachable object is ever freed; every object unreachable at the pause is
//! freed by it. No barrier is needed: nothing changes while marking.

use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::heap::{Address, Heap, HeapError, SweepStats};
use crate::host::{CycleRecord, Host, Phase, Trigger};
use crate::mark::{MarkFaults, MarkStats, ParallelMarker};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes per root slot scanned (one pointer word).
const ROOT_SLOT_BYTES: u64 = 8;

/// What one stop-the-world mark and sweep did, and how long each took.
pub(crate) struct FullCollection {
    pub marked: MarkStats,
    pub swept: SweepStats,
    pub mark_ns: u64,
    pub sweep_ns: u64,
}

/// Marks the whole heap from the host's roots and sweeps it, with the world
/// stopped, reporting each free to the host's sink: the heart of
/// `mark-sweep`, and the major collection of the generational collectors.
/// With `skip_sweep` (a broken variant for tests) nothing is freed.
pub(crate) fn mark_and_sweep(
    heap: &Heap,
    marker: &ParallelMarker,
    host: &dyn Host,
    cycle: u64,
    faults: MarkFaults,
    skip_sweep: bool,
) -> FullCollection {
    let t_mark = host.now_ns();
    let marked = marker.mark(heap, host.roots(), true, faults);
    let t_sweep = host.now_ns();
    let swept = if skip_sweep {
        SweepStats::default()
    } else if let Some(sink) = host.object_sink() {
        heap.sweep(Some(&mut |a| sink.on_free(cycle, a)))
    } else {
        heap.sweep(None)
    };
    FullCollection { marked, swept, mark_ns: t_sweep - t_mark, sweep_ns: host.now_ns() - t_sweep }
}

/// The stop-the-world mark-sweep collector.
pub struct MarkSweep {
    heap: Heap,
    config: GcConfig,
    marker: ParallelMarker,
    faults: MarkFaults,
    skip_sweep: bool,
    cycles: AtomicU64,
    goal: AtomicU64,
}

impl MarkSweep {
    pub fn new(config: &GcConfig) -> Result<MarkSweep, HeapError> {
        MarkSweep::with_faults(config, MarkFaults::default(), false)
    }

    /// A deliberately broken variant, for tests that prove the verifier
    /// catches it: marking `faults`, and with `skip_sweep` nothing is freed.
    #[doc(hidden)]
    pub fn with_faults(config: &GcConfig, faults: MarkFaults, skip_sweep: bool) -> Result<MarkSweep, HeapError> {
        let heap = Heap::new(config.heap_reserve_bytes)?;
        let goal = config.min_heap_goal;
        heap.set_trigger(if config.pacer().collects_on_its_own() { goal } else { u64::MAX });
        Ok(MarkSweep {
            heap,
            config: config.clone(),
            marker: ParallelMarker::new(config.procs, "mark-sweep"),
            faults,
            skip_sweep,
            cycles: AtomicU64::new(0),
            goal: AtomicU64::new(goal),
        })
    }
}

impl Collector for MarkSweep {
    fn name(&self) -> &'static str {
        "mark-sweep"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn heap(&self) -> &Heap {
        &self.heap
    }

    #[inline]
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        crate::collector::alloc_with_trigger(&self.heap, m, size, ptr_slots)
    }

    fn collect(&self, host: &dyn Host, trigger: Trigger) {
        // Another worker may have collected since this one crossed the trigger.
        let due = || self.heap.heap_live() >= self.goal.load(Ordering::Relaxed);
        crate::collector::stop_the_world_cycle(host, &self.cycles, Phase::StwFull, trigger, due, |cycle, start_ns| {
            let heap_live_before = self.heap.heap_live();
            let FullCollection { marked, swept, mark_ns, sweep_ns } =
                mark_and_sweep(&self.heap, &self.marker, host, cycle, self.faults, self.skip_sweep);
            let goal = self.config.pacer().goal(marked.bytes, marked.root_slots * ROOT_SLOT_BYTES);
            self.goal.store(goal, Ordering::Relaxed);
            self.heap.set_trigger(goal);
            host.on_cycle(&CycleRecord {
                cycle,
                trigger: Some(trigger),
                start_ns,
                end_ns: host.now_ns(),
                heap_live_before,
                marked_bytes: marked.bytes,
                marked_objects: marked.objects,
                mark_ns,
                mark_cpu_ns: marked.cpu_ns,
                sweep_ns,
                freed_bytes: swept.freed_bytes,
                freed_objects: swept.freed_objects,
                next_goal: goal,
                heap_live_after: self.heap.heap_live(),
                ..Default::default()
            });
        });
    }

    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }

    fn own_threads_cpu_ns(&self) -> u64 {
        self.marker.threads_cpu_ns()
    }
}

/// `mark-sweep` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "mark-sweep",
    summary: "stop-the-world, non-moving, parallel mark and sweep; GOGC pacing",
    make: |c| Ok(Box::new(MarkSweep::new(c)?)),
    options: &[],
    cycle_metrics: &[],
};
