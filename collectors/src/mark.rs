//! Parallel tri-color marking over the heap, shared by every collector that
//! traces.
//!
//! Colours are implicit, as in Go: an object is *white* while its mark bit is
//! clear, *grey* once its bit is set and it sits on some worker's deque, and
//! *black* once its pointer slots have been scanned. A worker shades a
//! pointer by mapping it (interior pointers included) to its object with
//! [`Heap::find_object`] and setting the mark bit with an atomic `fetch_or`,
//! so each object is pushed — and scanned — by exactly one worker.
//!
//! Work distribution: the roots are split into tasks (the globals, then one
//! task per goroutine stack — MMTk's per-mutator root batches) that workers
//! claim from an atomic counter; grey objects go to a per-worker LIFO deque
//! (crossbeam-deque) from which idle workers steal. Termination: a worker
//! that finds nothing to pop or steal leaves the `active` count and watches
//! for stealable work; marking ends when `active` reaches zero, which can
//! only happen when every deque is empty (a worker empties its own deque
//! before it goes idle) and nobody is left to push.
//!
//! [`MarkFaults`] injects deliberate bugs so tests can prove the verifier
//! catches a broken collector.

use crate::heap::{Address, Heap, ObjectRef};
use crate::host::{RootKind, RootSet};
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one marking pass found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkStats {
    /// Objects and size-class bytes marked.
    pub objects: u64,
    pub bytes: u64,
    /// Root slots visited, and the bytes of stacks and globals scanned
    /// (Go's pacer counts these as scan work: `lastStackScan`, `globalsScan`).
    pub root_slots: u64,
    /// CPU time the workers spent marking.
    pub cpu_ns: u64,
}

impl MarkStats {
    fn add(&mut self, o: &MarkStats) {
        self.objects += o.objects;
        self.bytes += o.bytes;
        self.root_slots += o.root_slots;
        self.cpu_ns += o.cpu_ns;
    }
}

/// Deliberate bugs, for tests of the verifier. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkFaults {
    /// Treat a pointer into the middle of an object as not a pointer.
    pub ignore_interior_pointers: bool,
    /// Do not scan the pointer slots of stack-allocated blocks.
    pub skip_stack_block_slots: bool,
    /// Do not scan package-level variables.
    pub skip_globals: bool,
}

/// A pool of GC worker threads that marks in parallel.
pub struct ParallelMarker {
    pool: rayon::ThreadPool,
}

impl ParallelMarker {
    /// A marker for `procs` workers: [`crate::collector::gc_threads`]
    /// threads.
    pub fn new(procs: usize, name: &str) -> ParallelMarker {
        let name = name.to_string();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(crate::collector::gc_threads(procs))
            .thread_name(move |i| format!("{name}-gc-{i}"))
            .build()
            .expect("cannot start GC worker threads");
        ParallelMarker { pool }
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The worker threads, for other parallel GC work (the generational
    /// collector's evacuation).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Marks every object reachable from `roots`. With `shrink_stacks`, hosts
    /// may halve sparse stacks while they are scanned. The world must be
    /// stopped (or the caller must otherwise keep roots and heap stable).
    pub fn mark(&self, heap: &Heap, roots: &dyn RootSet, shrink_stacks: bool, faults: MarkFaults) -> MarkStats {
        let n = self.workers();
        let injector: Injector<Address> = Injector::new();
        let workers: Vec<Worker<Address>> = (0..n).map(|_| Worker::new_lifo()).collect();
        let stealers: Vec<Stealer<Address>> = workers.iter().map(|w| w.stealer()).collect();
        let handout: Mutex<Vec<Option<Worker<Address>>>> = Mutex::new(workers.into_iter().map(Some).collect());
        let next_task = AtomicUsize::new(0);
        let tasks = 1 + roots.stack_count();
        let active = AtomicUsize::new(n);
        let ctx = MarkContext { heap, faults, injector: &injector, stealers: &stealers, active: &active };

        let per_worker = self.pool.broadcast(|b| {
            let local = handout.lock()[b.index()].take().expect("one deque per worker");
            let cpu0 = crate::cpu_time::thread_cpu_ns();
            let mut stats = MarkStats::default();
            loop {
                let t = next_task.fetch_add(1, Ordering::Relaxed);
                if t >= tasks {
                    break;
                }
                let mut visit = |slot: &crate::host::Slot, kind: RootKind| {
                    if kind == RootKind::StackBlock && faults.skip_stack_block_slots {
                        return;
                    }
                    stats.root_slots += 1;
                    ctx.shade(slot.load(Ordering::Relaxed), &local, &mut stats);
                };
                if t == 0 {
                    if !faults.skip_globals {
                        roots.scan_globals(&mut visit);
                    }
                } else {
                    roots.scan_stack(t - 1, shrink_stacks, &mut visit);
                }
            }
            ctx.drain(&local, &mut stats);
            stats.cpu_ns = crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
            stats
        });
        let mut total = MarkStats::default();
        for s in &per_worker {
            total.add(s);
        }
        total
    }
}

struct MarkContext<'a> {
    heap: &'a Heap,
    faults: MarkFaults,
    injector: &'a Injector<Address>,
    stealers: &'a [Stealer<Address>],
    active: &'a AtomicUsize,
}

impl MarkContext<'_> {
    /// Greys the object `v` points into, if it is a white heap object.
    #[inline]
    fn shade(&self, v: Address, local: &Worker<Address>, stats: &mut MarkStats) {
        if v == 0 {
            return;
        }
        let Some(obj) = self.heap.find_object(v) else { return };
        if self.faults.ignore_interior_pointers && obj.base() != v {
            return;
        }
        if obj.is_allocated() && obj.try_mark() {
            stats.objects += 1;
            stats.bytes += obj.elem_bytes();
            // Whether it has pointer slots at all is left to `scan`: reading
            // the slot-count metadata here too cost a second cache miss per
            // object (measured: a quarter of `shade`'s samples).
            if !obj.is_noscan() {
                local.push(obj.base());
            }
        }
    }

    /// Blackens one grey object: shades everything its pointer slots hold.
    #[inline]
    fn scan(&self, obj: ObjectRef<'_>, local: &Worker<Address>, stats: &mut MarkStats) {
        for w in obj.pointer_words() {
            let v = w.load(Ordering::Relaxed);
            if v != 0 {
                self.shade(v, local, stats);
            }
        }
    }

    fn steal(&self, local: &Worker<Address>) -> Option<Address> {
        loop {
            let mut retry = false;
            match self.injector.steal_batch_and_pop(local) {
                Steal::Success(a) => return Some(a),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for s in self.stealers {
                match s.steal_batch_and_pop(local) {
                    Steal::Success(a) => return Some(a),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn work_visible(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Pops, scans and steals until no worker has work left.
    fn drain(&self, local: &Worker<Address>, stats: &mut MarkStats) {
        loop {
            while let Some(a) = local.pop().or_else(|| self.steal(local)) {
                if let Some(obj) = self.heap.find_object(a) {
                    self.scan(obj, local, stats);
                }
            }
            self.active.fetch_sub(1, Ordering::SeqCst);
            loop {
                if self.active.load(Ordering::SeqCst) == 0 {
                    return;
                }
                if self.work_visible() {
                    self.active.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                std::hint::spin_loop();
                std::thread::yield_now();
            }
        }
    }
}
